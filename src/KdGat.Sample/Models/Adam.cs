using System.Numerics;

namespace KdGat.Sample.Models;

/// <summary>
/// Adam over one flat parameter vector. Plain SGD at the models' configured learning rates
/// (0.001 for the GAT) barely moves in the few epochs the sample can afford; Adam does.
/// </summary>
internal sealed class Adam(int size, double lr)
{
    private const double Beta1 = 0.9, Beta2 = 0.999, Epsilon = 1e-8;
    private readonly double[] _m = new double[size];
    private readonly double[] _v = new double[size];
    private int _t;

    /// <summary>
    /// The training stages' hot spot (a step per graph, a square root and two divisions per
    /// weight), so it runs on SIMD lanes. Each lane does the scalar tail's operations in the same
    /// order, and IEEE multiply, add, divide and square root round the same either way: the
    /// weights are bit-identical to a scalar loop.
    /// </summary>
    public void Step(double[] parameters, double[] gradient)
    {
        _t++;
        var c1 = 1 - Math.Pow(Beta1, _t);
        var c2 = 1 - Math.Pow(Beta2, _t);
        var i = 0;
        if (Vector.IsHardwareAccelerated && parameters.Length >= Vector<double>.Count)
        {
            var (b1, b2, a1, a2) = (new Vector<double>(Beta1), new Vector<double>(Beta2), new Vector<double>(1 - Beta1), new Vector<double>(1 - Beta2));
            var (vc1, vc2, vlr, veps) = (new Vector<double>(c1), new Vector<double>(c2), new Vector<double>(lr), new Vector<double>(Epsilon));
            for (; i <= parameters.Length - Vector<double>.Count; i += Vector<double>.Count)
            {
                var g = new Vector<double>(gradient, i);
                var m = b1 * new Vector<double>(_m, i) + a1 * g;
                var v = b2 * new Vector<double>(_v, i) + a2 * g * g;
                m.CopyTo(_m, i);
                v.CopyTo(_v, i);
                (new Vector<double>(parameters, i) - vlr * (m / vc1) / (Vector.SquareRoot(v / vc2) + veps)).CopyTo(parameters, i);
            }
        }
        for (; i < parameters.Length; i++)
        {
            _m[i] = Beta1 * _m[i] + (1 - Beta1) * gradient[i];
            _v[i] = Beta2 * _v[i] + (1 - Beta2) * gradient[i] * gradient[i];
            parameters[i] -= lr * (_m[i] / c1) / (Math.Sqrt(_v[i] / c2) + Epsilon);
        }
    }
}
