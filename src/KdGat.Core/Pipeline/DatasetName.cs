using System.Text.RegularExpressions;
using KdGat.Core.Diagnostics;

namespace KdGat.Core.Pipeline;

/// <summary>
/// Dataset names become directory names and SLURM job names: letters, digits, '_', '.' and '-',
/// starting with a letter or digit. That rules out '../x', 'a;rm -rf /' and names with spaces.
/// </summary>
internal static partial class DatasetName
{
    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}\z")] // \z: "$" also matches before a final newline
    private static partial Regex Pattern();

    public static bool IsValid(string name) => Pattern().IsMatch(name) && !name.Contains("..");

    public static void Validate(string name, string source)
    {
        if (!IsValid(name))
            throw new KdgException(ErrorCodes.InvalidDatasetName,
                $"invalid dataset name '{ConsoleText.OneLine(name)}' ({source}). Use 1-64 letters, digits, '_', '.' or '-', starting with a letter or digit; no spaces, '/', '..' or shell characters.");
    }

    /// <summary>Splits -p:Dataset (one name, or several separated by ';' or spaces: `-p:Dataset="hcrl_sa hcrl_ch"` needs no MSBuild escaping); empty means "every dataset in the config".</summary>
    /// <param name="given">Where the value came from, for the errors: -p:Dataset, or an environment variable DATASET (BuildRequest.Given).</param>
    public static IReadOnlyList<string> Select(string? requested, IReadOnlyList<string> configured, string configFile, (int Line, int Column) datasetsAt = default, string given = "-p:Dataset")
    {
        if (string.IsNullOrWhiteSpace(requested)) return configured;
        var names = requested.Split([';', ' ', '\t'], StringSplitOptions.RemoveEmptyEntries).Select(n => n.Trim()).Where(n => n.Length > 0).Distinct().ToArray();
        // `-p:Dataset=%3B%3B` built nothing and succeeded, while an empty value builds every dataset.
        if (names.Length == 0)
            throw new KdgException(ErrorCodes.BadProperty,
                $"{given} ('{requested}') names no dataset, only separators. Name one or more datasets (-p:Dataset=hcrl_sa, several separated by spaces or ';'), " +
                $"or leave -p:Dataset out to build every dataset in {Path.GetFileName(configFile)} ({string.Join(", ", configured)}).");
        foreach (var n in names)
        {
            Validate(n, given);
            if (!configured.Contains(n))
                throw new KdgException(ErrorCodes.UnknownDataset,
                    $"unknown dataset '{n}' in {given}.{Spelling.DidYouMean(n, configured, Math.Max(2, n.Length / 3))} Known datasets: {string.Join(", ", configured)}. Add it under 'datasets:' in {Path.GetFileName(configFile)} or fix the name.", configFile, datasetsAt.Line, datasetsAt.Column);
        }
        return names;
    }
}
