using KdGat.Sample.Cli;
using KdGat.Sample.Common;
using KdGat.Sample.Graphs;
using KdGat.Sample.Models;

namespace KdGat.Sample.Stages;

/// <summary>
/// evaluate: scores the held-out test graphs with the three upstream models (VGAE score, GAT
/// probability, fused by the DQN's choice) and writes metrics.json. The per-model accuracies are
/// there so a run shows what fusion added.
/// </summary>
internal static class EvaluateStage
{
    public static readonly string[] Options = ["cache", "vgae", "gat", "dqn", "out"];
    public const string FileName = "metrics.json";

    public static int Run(Args args, TextWriter stdout)
    {
        var set = GraphCache.Read(args.Required("cache"));
        var vgae = Checkpoint.Read(args.Required("vgae"), Autoencoder.Kind, "--vgae", Autoencoder.Read);
        var gat = Checkpoint.Read(args.Required("gat"), Classifier.Kind, "--gat", Classifier.Read);
        var dqn = Checkpoint.Read(args.Required("dqn"), FusionAgent.Kind, "--dqn", FusionAgent.Read);
        var outDir = OutputDir.Prepare(args.Required("out"));

        var fused = new Confusion();
        var vgaeOnly = new Confusion();
        var gatOnly = new Confusion();
        foreach (var g in set.Test)
        {
            var row = Classifier.Row(g, vgae);
            var (score, probability) = (row[^1], gat.Probability(row));
            var actual = g.Label == 1;
            fused.Add(dqn.PredictAttack(score, probability), actual);
            vgaeOnly.Add(score >= 0.5, actual);
            gatOnly.Add(probability >= 0.5, actual);
        }

        JsonFile.Write(Path.Combine(outDir, FileName), w =>
        {
            w.WriteStartObject();
            w.WriteString("split", CanGraph.Test);
            w.WriteNumber("graphs", fused.Total);
            w.WriteFinite("accuracy", Round(fused.Accuracy));
            w.WriteFinite("precision", Round(fused.Precision));
            w.WriteFinite("recall", Round(fused.Recall));
            w.WriteFinite("f1", Round(fused.F1));
            w.WriteNumber("tp", fused.Tp);
            w.WriteNumber("fp", fused.Fp);
            w.WriteNumber("tn", fused.Tn);
            w.WriteNumber("fn", fused.Fn);
            w.WriteFinite("vgae_accuracy", Round(vgaeOnly.Accuracy));
            w.WriteFinite("gat_accuracy", Round(gatOnly.Accuracy));
            w.WriteEndObject();
        });
        stdout.WriteLine($"evaluate: {fused.Total} test graphs, accuracy {fused.Accuracy:F4}, f1 {fused.F1:F4} (vgae alone {vgaeOnly.Accuracy:F4}, gat alone {gatOnly.Accuracy:F4}) -> {Path.Combine(outDir, FileName)}");
        return 0;
    }

    /// <summary>Six decimals: readable, and still far finer than one test graph's worth.</summary>
    private static double Round(double v) => Math.Round(v, 6);

    private sealed class Confusion
    {
        public int Tp, Fp, Tn, Fn;
        public int Total => Tp + Fp + Tn + Fn;

        public void Add(bool predicted, bool actual)
        {
            if (predicted && actual) Tp++;
            else if (predicted) Fp++;
            else if (actual) Fn++;
            else Tn++;
        }

        // Empty denominators give 0 rather than NaN: JSON has no NaN, and 0 is the honest score.
        public double Accuracy => Total == 0 ? 0 : (double)(Tp + Tn) / Total;
        public double Precision => Tp + Fp == 0 ? 0 : (double)Tp / (Tp + Fp);
        public double Recall => Tp + Fn == 0 ? 0 : (double)Tp / (Tp + Fn);
        public double F1 => Precision + Recall == 0 ? 0 : 2 * Precision * Recall / (Precision + Recall);
    }
}
