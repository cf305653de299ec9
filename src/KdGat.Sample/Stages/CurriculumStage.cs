using KdGat.Sample.Cli;
using KdGat.Sample.Common;
using KdGat.Sample.Graphs;
using KdGat.Sample.Models;
using KdGat.Sample.Params;

namespace KdGat.Sample.Stages;

/// <summary>
/// curriculum: trains the GAT stand-in on all training graphs, easiest first. "Easy" is where the
/// upstream VGAE's score already agrees with the label; each curriculum stage admits a larger
/// share of the harder graphs. With --teacher, a distillation term pulls toward the teacher GAT.
/// </summary>
internal static class CurriculumStage
{
    public static readonly string[] Options = ["cache", "params", "vgae", "out", "teacher"];

    public static int Run(Args args, TextWriter stdout)
    {
        var set = GraphCache.Read(args.Required("cache"));
        var p = StageParams.Load(args.Required("params"));
        var vgae = Checkpoint.Read(args.Required("vgae"), Autoencoder.Kind, "--vgae", Autoencoder.Read);
        var teacherDir = args.Optional("teacher");
        var teacher = teacherDir is null ? null : Checkpoint.Read(teacherDir, Classifier.Kind, "--teacher", Classifier.Read);
        var outDir = OutputDir.Prepare(args.Required("out"));

        var hidden = p.Int("hidden", 16, min: 1, max: 4096);
        var lr = p.Double("lr", 0.001, min: 1e-9, max: 10);
        var epochs = p.Int("epochs", 20, min: 1, max: 10_000);
        var stages = p.Int("curriculum_stages", 4, min: 1, max: 100);
        var seed = p.Int("seed", 11);
        var kd = Distillation.From(p, teacher is not null);

        var graphs = set.Train.ToList();
        var rows = graphs.Select(g => Classifier.Row(g, vgae)).ToList();
        var labels = graphs.Select(g => (double)g.Label).ToArray();
        // The teacher sees the student's VGAE score: both VGAEs are calibrated to the same scale.
        var teacherLogits = teacher is null ? null : rows.Select(teacher.Logit).ToArray();
        var norm = Normalizer.Fit(rows);
        var inputs = rows.Select(norm.Apply).ToList();
        var byDifficulty = Enumerable.Range(0, graphs.Count)
            .OrderBy(i => Math.Abs(rows[i][^1] - labels[i])).ThenBy(i => i).ToArray();

        var rng = new SplitMix64((ulong)seed);
        var model = new Classifier(GraphFeatures.Count + 1, hidden, norm);
        model.Initialize(rng);
        var adam = new Adam(model.P.Length, lr);
        var grad = new double[model.P.Length];
        var log = new TrainLog("curriculum", teacher is not null, outDir);
        for (var epoch = 1; epoch <= epochs; epoch++)
        {
            // Stages split the epochs evenly; the last stage always trains on everything.
            var stage = Math.Min(stages, 1 + (epoch - 1) * stages / epochs);
            var take = (int)Math.Ceiling(graphs.Count * (double)stage / stages);
            var subset = byDifficulty.Take(take).ToArray();
            rng.Shuffle(subset);
            var loss = 0.0;
            foreach (var i in subset)
            {
                Array.Clear(grad);
                loss += model.Backprop(inputs[i], labels[i], teacherLogits?[i], kd.Alpha, kd.Temperature, grad);
                adam.Step(model.P, grad);
            }
            log.Add(epoch, loss / subset.Length, ("curriculum_stage", stage), ("graphs", subset.Length));
        }

        log.Write(outDir);
        Checkpoint.Write(outDir, Classifier.Kind, w =>
        {
            w.WriteFinite("lr", lr);
            w.WriteNumber("epochs", epochs);
            w.WriteNumber("curriculum_stages", stages);
            w.WriteNumber("seed", seed);
            w.WriteFinite("kd_alpha", kd.Alpha);
            w.WriteFinite("kd_temperature", kd.Temperature);
            model.Write(w);
        });
        stdout.WriteLine($"curriculum: {graphs.Count} graphs, {epochs} epochs in {stages} stages, loss {log.LastLoss:G6}{(teacher is null ? "" : $", distilled (alpha {kd.Alpha}, T {kd.Temperature})")} -> {outDir}");
        return 0;
    }
}
