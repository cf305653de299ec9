using KdGat.Core.Diagnostics;
using KdGat.Core.IO;

namespace KdGat.Core.Pipeline;

/// <summary>
/// Which file holds a stage's metrics (what its run record keeps and Compare, History and the report
/// show): its one output named metrics.json; else, with none so named, the metrics.json at the top of
/// the one output folder that has one (<c>outputs: [results]</c>: it was not read, and Compare said the
/// stage had recorded no metrics; a review). Never chosen by the order of <c>outputs:</c>, which the
/// fingerprint leaves out: the first of two was taken, so reordering them changed the published
/// number of a build only after Clean (a review). One rule for every way a result commits (ran,
/// restored from the cache, adopted), read from the outputs as committed, so each records the same.
/// </summary>
internal static class MetricsFile
{
    public const string Name = "metrics.json";

    /// <summary>
    /// The instance's metrics file as its outputs are now, or null. <paramref name="several"/> holds the folders'
    /// metrics.json files (sorted) when no output is named metrics.json and more than one folder has one:
    /// then none is read (KDG5025), as no rule but their order would pick one.
    /// </summary>
    public static string? Of(StageInstance s, out IReadOnlyList<string> several)
    {
        several = [];
        if (s.Outputs.FirstOrDefault(IsNamed) is { } named) return named; // at most one: the load refuses two (KDG1044)
        var inFolders = s.Outputs.Where(Directory.Exists).Select(d => Path.Combine(d, Name)).Where(File.Exists)
            .Order(StringComparer.Ordinal).ToArray();
        if (inFolders.Length == 1) return inFolders[0];
        several = inFolders;
        return null;
    }

    /// <summary>
    /// KDG1044 at the second output named metrics.json (also one from optional_outputs:, or a templated one rendered
    /// so for this instance), or null: a run records one metrics.json.
    /// </summary>
    public static KdgException? DeclaredTwice(StageInstance s)
    {
        var named = s.Outputs.Where(IsNamed).ToArray();
        if (named.Length < 2) return null;
        var (line, column) = s.PlaceOf(named[1]);
        return new KdgException(ErrorCodes.MetricsFileDeclaredTwice,
            $"stage '{s.Name}' (dataset {s.Dataset}): {named.Length} outputs are named {Name} ({string.Join(", ", named.Select(o => $"'{PathText.ToStored(s.Layout.Root, o)}'"))}). " +
            $"A run records one {Name} as the stage's metrics (what Compare, History and the report show), and which one cannot rest on the order of outputs:, which is not in the fingerprint. " +
            $"Keep one output named {Name} (put the numbers of both in it, e.g. {{\"val_f1\": 0.95, \"test_f1\": 0.71}}) and name the others differently (test/test_metrics.json).",
            s.Layout.Config.File, line, column);
    }

    private static bool IsNamed(string output) => string.Equals(Path.GetFileName(output), Name, StringComparison.Ordinal);
}
