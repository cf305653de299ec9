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

    public void Step(double[] parameters, double[] gradient)
    {
        _t++;
        var c1 = 1 - Math.Pow(Beta1, _t);
        var c2 = 1 - Math.Pow(Beta2, _t);
        for (var i = 0; i < parameters.Length; i++)
        {
            _m[i] = Beta1 * _m[i] + (1 - Beta1) * gradient[i];
            _v[i] = Beta2 * _v[i] + (1 - Beta2) * gradient[i] * gradient[i];
            parameters[i] -= lr * (_m[i] / c1) / (Math.Sqrt(_v[i] / c2) + Epsilon);
        }
    }
}
