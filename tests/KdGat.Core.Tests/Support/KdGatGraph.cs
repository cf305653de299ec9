using System.Text;
using KdGat.Core.Pipeline;

namespace KdGat.Core.Tests.Support;

/// <summary>The 13-stage KD-GAT graph as pipeline.proj declares it, in MSBuild's run order.</summary>
public static class KdGatGraph
{
    public static readonly IReadOnlyList<StageDeclaration> Stages =
    [
        new("preprocess", []),
        new("vgae_large_autoencoder", ["preprocess"]),
        new("gat_large_curriculum", ["vgae_large_autoencoder", "preprocess"]),
        new("dqn_large_fusion", ["vgae_large_autoencoder", "gat_large_curriculum", "preprocess"]),
        new("vgae_small_autoencoder_kd", ["vgae_large_autoencoder", "preprocess"]),
        new("gat_small_curriculum_kd", ["gat_large_curriculum", "vgae_small_autoencoder_kd", "preprocess"]),
        new("dqn_small_fusion_kd", ["dqn_large_fusion", "vgae_small_autoencoder_kd", "gat_small_curriculum_kd", "preprocess"]),
        new("vgae_small_autoencoder", ["preprocess"]),
        new("gat_small_curriculum", ["vgae_small_autoencoder", "preprocess"]),
        new("dqn_small_fusion", ["vgae_small_autoencoder", "gat_small_curriculum", "preprocess"]),
        new("eval_large_evaluation", ["vgae_large_autoencoder", "gat_large_curriculum", "dqn_large_fusion", "preprocess"]),
        new("eval_small_evaluation_kd", ["vgae_small_autoencoder_kd", "gat_small_curriculum_kd", "dqn_small_fusion_kd", "preprocess"]),
        new("eval_small_evaluation", ["vgae_small_autoencoder", "gat_small_curriculum", "dqn_small_fusion", "preprocess"]),
    ];

    public static readonly IReadOnlyDictionary<string, string> Teachers = new Dictionary<string, string>
    {
        ["vgae_small_autoencoder_kd"] = "vgae_large_autoencoder",
        ["gat_small_curriculum_kd"] = "gat_large_curriculum",
        ["dqn_small_fusion_kd"] = "dqn_large_fusion",
    };

    public static IReadOnlyList<string> Names => Stages.Select(s => s.Name).ToArray();

    /// <summary>A pipeline.proj's KdGatStage items, in file order (which is a valid MSBuild run order).</summary>
    public static StageDeclaration[] Declared(string pipelineProj) =>
        System.Xml.Linq.XDocument.Load(pipelineProj).Descendants("KdGatStage")
            .Select(e => new StageDeclaration((string)e.Attribute("Include")!,
                ((string?)e.Attribute("Needs") ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries)))
            .ToArray();

    /// <summary>
    /// A kdgat.yaml for the KD-GAT graph whose stages are trivial shell commands: each writes
    /// out.txt holding its name, its parameter 'v' and the out.txt of every upstream stage, so a
    /// changed upstream output always changes the downstream output too.
    /// </summary>
    public static string Yaml(IReadOnlyDictionary<string, string>? paramV = null, IReadOnlyDictionary<string, string>? commandOverride = null, string datasets = "[d1]")
    {
        var sb = new StringBuilder();
        sb.Append("datasets: ").Append(datasets).Append('\n');
        sb.Append("paths:\n  runs: runs\n  raw: raw/{dataset}\n  cache: cache/{dataset}\n");
        sb.Append("defaults: { retries: 0 }\n");
        sb.Append("stages:\n");
        foreach (var s in Stages)
        {
            var cats = string.Concat(s.Needs.Select(n => $" {{upstream.{n}}}/out.txt"));
            var command = commandOverride is not null && commandOverride.TryGetValue(s.Name, out var c)
                ? c
                : $"(echo {{stage}} {{params.v}}{(cats.Length > 0 ? $"; cat{cats}" : "")}) > out.txt";
            sb.Append("  ").Append(s.Name).Append(":\n");
            sb.Append("    command: ").Append(YamlQuote(command)).Append('\n');
            if (command.Contains("{raw_dir}", StringComparison.Ordinal)) sb.Append("    inputs: ['{raw_dir}']\n"); // as the bundled preprocess declares it (KDG1039 otherwise)
            if (Teachers.TryGetValue(s.Name, out var t)) sb.Append("    teacher: ").Append(t).Append('\n');
            sb.Append("    params: { v: ").Append(YamlQuote(paramV is not null && paramV.TryGetValue(s.Name, out var v) ? v : "1")).Append(" }\n");
            sb.Append("    outputs: [out.txt]\n");
        }
        return sb.ToString();
    }

    public static string YamlQuote(string s) => "'" + s.Replace("'", "''") + "'";
}
