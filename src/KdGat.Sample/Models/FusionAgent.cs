using System.Text.Json;
using KdGat.Sample.Common;

namespace KdGat.Sample.Models;

/// <summary>
/// Stand-in for KD-GAT's DQN fusion: a Q-table instead of a network. The state is the pair
/// (VGAE score, GAT probability), each bucketed into five bins; an action picks how much weight
/// the GAT gets in the fused score. Rewards are +1 for a correct fused verdict, -1 otherwise.
/// </summary>
internal sealed class FusionAgent
{
    public const string Kind = "dqn";
    public const int Bins = 5;
    public static readonly double[] Weights = [0.0, 0.25, 0.5, 0.75, 1.0];
    public static int States => Bins * Bins;

    /// <summary>Q[state * Actions + action].</summary>
    public double[] Q { get; }

    public FusionAgent(double[]? q = null)
    {
        Q = q ?? new double[States * Weights.Length];
        if (Q.Length != States * Weights.Length) throw new InvalidOperationException("Q-table size does not match states x actions");
    }

    public static int State(double vgaeScore, double gatProbability) => Bin(vgaeScore) * Bins + Bin(gatProbability);

    private static int Bin(double p) => Math.Clamp((int)(p * Bins), 0, Bins - 1);

    /// <summary>Greedy action. Ties (an unvisited state) go to the even blend, not to whichever model is listed first.</summary>
    public int Best(int state)
    {
        var best = Weights.Length / 2;
        for (var a = 0; a < Weights.Length; a++)
            if (Q[state * Weights.Length + a] > Q[state * Weights.Length + best]) best = a;
        return best;
    }

    public double MaxQ(int state) => Q[state * Weights.Length + Best(state)];

    public static double Fuse(int action, double vgaeScore, double gatProbability) =>
        Weights[action] * gatProbability + (1 - Weights[action]) * vgaeScore;

    public bool PredictAttack(double vgaeScore, double gatProbability) =>
        Fuse(Best(State(vgaeScore, gatProbability)), vgaeScore, gatProbability) >= 0.5;

    public void Write(Utf8JsonWriter w)
    {
        w.WriteNumber("bins", Bins);
        w.WriteArray("actions", Weights);
        w.WriteArray("q", Q);
    }

    public static FusionAgent Read(JsonRead r)
    {
        if (r.Int("bins") != Bins || r.Nums("actions").Length != Weights.Length)
            throw r.Bad($"Q-table shape differs from this sample's {Bins} bins x {Weights.Length} actions");
        var q = r.Nums("q");
        if (q.Length != States * Weights.Length) throw r.Bad($"Q-table has {q.Length} entries, expected {States * Weights.Length}");
        return new FusionAgent(q);
    }
}
