using KdGat.Sample.Cli;
using KdGat.Sample.Common;
using KdGat.Sample.Graphs;
using KdGat.Sample.Models;
using KdGat.Sample.Params;

namespace KdGat.Sample.Stages;

/// <summary>
/// fusion: Q-learning of how to weigh the VGAE against the GAT per (score, probability) state.
/// Each episode is a short walk over randomly drawn training graphs; a state-action pair's step
/// size decays with its visits. With --teacher, the update target blends in the teacher's
/// Q-value (weight kd_alpha).
/// </summary>
internal static class FusionStage
{
    public static readonly string[] Options = ["cache", "params", "vgae", "gat", "out", "teacher"];
    private const int StepsPerEpisode = 32;

    public static int Run(Args args, TextWriter stdout)
    {
        var set = GraphCache.Read(args.Required("cache"));
        var p = StageParams.Load(args.Required("params"));
        var vgae = Checkpoint.Read(args.Required("vgae"), Autoencoder.Kind, "--vgae", Autoencoder.Read);
        var gat = Checkpoint.Read(args.Required("gat"), Classifier.Kind, "--gat", Classifier.Read);
        var teacherDir = args.Optional("teacher");
        var teacher = teacherDir is null ? null : Checkpoint.Read(teacherDir, FusionAgent.Kind, "--teacher", FusionAgent.Read);
        var outDir = OutputDir.Prepare(args.Required("out"));

        var episodes = p.Int("episodes", 200, min: 1, max: 1_000_000);
        var lr = p.Double("lr", 0.1, min: 1e-9, max: 1);
        var gamma = p.Double("gamma", 0.9, min: 0, max: 0.999);
        var epsilon = p.Double("epsilon", 0.2, min: 0, max: 1);
        var seed = p.Int("seed", 13);
        var kd = Distillation.From(p, teacher is not null);

        var samples = set.Train.Select(g =>
        {
            var row = Classifier.Row(g, vgae);
            return (Vgae: row[^1], Gat: gat.Probability(row), Label: g.Label);
        }).ToArray();

        var rng = new SplitMix64((ulong)seed);
        var agent = new FusionAgent();
        var actions = FusionAgent.Weights.Length;
        var visits = new int[agent.Q.Length];
        var log = new TrainLog("fusion", teacher is not null, outDir);
        for (var episode = 1; episode <= episodes; episode++)
        {
            var current = samples[rng.Next(0, samples.Length)];
            double reward = 0, tdError = 0;
            for (var step = 0; step < StepsPerEpisode; step++)
            {
                var s = FusionAgent.State(current.Vgae, current.Gat);
                var a = rng.NextDouble() < epsilon ? rng.Next(0, actions) : agent.Best(s);
                var attack = FusionAgent.Fuse(a, current.Vgae, current.Gat) >= 0.5;
                var r = attack == (current.Label == 1) ? 1.0 : -1.0;
                var next = samples[rng.Next(0, samples.Length)];
                var target = r + gamma * agent.MaxQ(FusionAgent.State(next.Vgae, next.Gat));
                if (teacher is not null) target = (1 - kd.Alpha) * target + kd.Alpha * teacher.Q[s * actions + a];
                var delta = target - agent.Q[s * actions + a];
                // The step shrinks with visits (lr, then about 1/visits): with a constant step the
                // greedy choice in a state follows whichever few graphs were drawn last.
                var alpha = lr / (1 + lr * visits[s * actions + a]++);
                agent.Q[s * actions + a] += alpha * delta;
                reward += r;
                tdError += delta * delta;
                current = next;
            }
            log.Add(episode, tdError / StepsPerEpisode, ("mean_reward", reward / StepsPerEpisode));
        }

        log.Write(outDir);
        Checkpoint.Write(outDir, FusionAgent.Kind, w =>
        {
            w.WriteNumber("episodes", episodes);
            w.WriteFinite("lr", lr);
            w.WriteFinite("gamma", gamma);
            w.WriteFinite("epsilon", epsilon);
            w.WriteNumber("seed", seed);
            w.WriteFinite("kd_alpha", kd.Alpha);
            agent.Write(w);
        });
        stdout.WriteLine($"fusion: {samples.Length} graphs, {episodes} episodes, final TD loss {log.LastLoss:G6}{(teacher is null ? "" : $", distilled (alpha {kd.Alpha})")} -> {outDir}");
        return 0;
    }
}
