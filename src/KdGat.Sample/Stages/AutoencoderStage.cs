using KdGat.Sample.Cli;
using KdGat.Sample.Common;
using KdGat.Sample.Graphs;
using KdGat.Sample.Models;
using KdGat.Sample.Params;

namespace KdGat.Sample.Stages;

/// <summary>
/// autoencoder: trains the VGAE stand-in on the normal training graphs. With --teacher, the
/// reconstruction target blends the input with the teacher's reconstruction (weight kd_alpha).
/// </summary>
internal static class AutoencoderStage
{
    public static readonly string[] Options = ["cache", "params", "out", "teacher"];

    public static int Run(Args args, TextWriter stdout)
    {
        var set = GraphCache.Read(args.Required("cache"));
        var p = StageParams.Load(args.Required("params"));
        var teacherDir = args.Optional("teacher");
        var outDir = OutputDir.Prepare(args.Required("out"));
        var teacher = teacherDir is null ? null : Checkpoint.Read(teacherDir, Autoencoder.Kind, "--teacher", Autoencoder.Read);

        var hidden = p.Int("hidden", 16, min: 1, max: 4096);
        var latent = p.Int("latent", 8, min: 1, max: 4096);
        var lr = p.Double("lr", 0.01, min: 1e-9, max: 10);
        var epochs = p.Int("epochs", 30, min: 1, max: 10_000);
        var seed = p.Int("seed", 7);
        var kd = Distillation.From(p, teacher is not null);

        // Anomaly detection: learn what normal looks like, and only that.
        var rows = set.Train.Where(g => g.Label == 0).Select(GraphFeatures.Of).ToList();
        if (rows.Count == 0)
            throw new SampleError("no normal graphs in the training split", Path.Combine(args.Required("cache"), GraphCache.IndexFile), "use a dataset with attack-free traffic");
        var norm = Normalizer.Fit(rows);
        var inputs = rows.Select(norm.Apply).ToList();
        var targets = teacher is null ? inputs : rows.Select((r, i) => Blend(inputs[i], TeacherReconstruction(teacher, r, norm), kd.Alpha)).ToList();

        var rng = new SplitMix64((ulong)seed);
        var model = new Autoencoder(GraphFeatures.Count, hidden, latent, norm);
        model.Initialize(rng);
        var adam = new Adam(model.P.Length, lr);
        var grad = new double[model.P.Length];
        var order = Enumerable.Range(0, inputs.Count).ToArray();
        var log = new TrainLog("autoencoder", teacher is not null, outDir);
        for (var epoch = 1; epoch <= epochs; epoch++)
        {
            rng.Shuffle(order);
            var loss = 0.0;
            foreach (var i in order)
            {
                Array.Clear(grad);
                loss += model.Backprop(inputs[i], targets[i], grad);
                adam.Step(model.P, grad);
            }
            log.Add(epoch, loss / order.Length);
        }
        Calibrate(model, rows);

        log.Write(outDir);
        Checkpoint.Write(outDir, Autoencoder.Kind, w =>
        {
            w.WriteFinite("lr", lr);
            w.WriteNumber("epochs", epochs);
            w.WriteNumber("seed", seed);
            w.WriteFinite("kd_alpha", kd.Alpha);
            model.Write(w);
        });
        stdout.WriteLine($"autoencoder: {rows.Count} normal graphs, {epochs} epochs, loss {log.LastLoss:G6}{(teacher is null ? "" : $", distilled (alpha {kd.Alpha})")} -> {outDir}");
        return 0;
    }

    /// <summary>The teacher works in its own normalized space; map its output back to raw, then into ours.</summary>
    private static double[] TeacherReconstruction(Autoencoder teacher, double[] raw, Normalizer ours)
    {
        var y = teacher.Reconstruct(teacher.Norm.Apply(raw));
        for (var j = 0; j < y.Length; j++) y[j] = y[j] * teacher.Norm.Std[j] + teacher.Norm.Mean[j];
        return ours.Apply(y);
    }

    private static double[] Blend(double[] x, double[] teacher, double alpha) =>
        x.Select((v, j) => (1 - alpha) * v + alpha * teacher[j]).ToArray();

    /// <summary>
    /// Scores around 0.5 should mean "unusual": put the threshold two standard deviations above
    /// the mean error on normal training graphs.
    /// </summary>
    private static void Calibrate(Autoencoder model, List<double[]> normalRows)
    {
        var errors = normalRows.Select(model.Error).ToArray();
        var mean = errors.Average();
        var std = Math.Sqrt(errors.Sum(e => (e - mean) * (e - mean)) / errors.Length);
        model.Threshold = mean + 2 * std;
        model.Scale = Math.Max(std, 1e-6);
    }
}
