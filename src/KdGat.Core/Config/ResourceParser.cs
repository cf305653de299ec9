using System.Globalization;
using System.Text.RegularExpressions;
using KdGat.Core.Diagnostics;
using YamlDotNet.RepresentationModel;

namespace KdGat.Core.Config;

/// <summary>
/// Reads <c>resources:</c> blocks: cpus, mem (512M, 8G, 128GB), time (sbatch --time formats: M, M:S, H:M:S, D-H, D-H:M, D-H:M:S, UNLIMITED), gpus (N or TYPE:N), partition (one, or several with commas), account, qos, extra.
/// Any value may use <c>$NAME</c> or <c>${NAME}</c>, as paths do (<see cref="PathExpansion"/>): replaced, when the config loads, by the
/// orchestrator's environment variable (KDG1025 when unset). No resource holds a <c>$</c> of its own: the number and name fields
/// refuse it, and SLURM expands nothing in the #SBATCH lines <c>extra</c> becomes, so a <c>$USER</c> there reached the job literally.
/// </summary>
internal static partial class ResourceParser
{
    // [0-9], not \d: \d matches every Unicode digit ('٨G'), which double.Parse then refused (KDG9001).
    [GeneratedRegex(@"^([0-9]+(?:\.[0-9]+)?)\s*([KMGT]?)(?:i?B)?$", RegexOptions.IgnoreCase)]
    private static partial Regex MemPattern();

    [GeneratedRegex(@"^[A-Za-z0-9_.\-]+\z")] // \z: "$" also matches before a final newline
    private static partial Regex NamePattern();

    public static ResourceSpec Read(YamlReader r, YamlNode node, string what)
    {
        var map = r.Mapping(node, what);
        r.CheckKeys(map, what, "cpus", "mem", "time", "gpus", "partition", "account", "qos", "extra");
        var gpus = Optional(r, map, "gpus", what, s => ParseGpus(s) is null ? null : s,
            "a whole number of at least 0, or TYPE:N with the GPU type as the cluster names it (a100:2)") is { } g ? ParseGpus(g) : null;
        return new ResourceSpec
        {
            Cpus = Optional(r, map, "cpus", what, s => Count(s, 1), "a whole number of at least 1"),
            Gpus = gpus?.Count,
            GpuType = gpus?.Type,
            MemMb = Optional(r, map, "mem", what, ParseMemMb, "a size such as 512M, 8G or 128GB, at most 1024T"),
            TimeMinutes = Optional(r, map, "time", what, ParseMinutes, "a SLURM time: minutes (90), M:S, H:M:S (01:30:00), D-H (1-12) or D-H:M:S, at most 100 years; or UNLIMITED (INFINITE)"),
            Partition = Optional(r, map, "partition", what, Partitions, "a name of letters, digits, '_', '.' or '-', or several separated by commas (cpu,gpu: the job runs in whichever starts it first)"),
            Account = Optional(r, map, "account", what, Name, "a name of letters, digits, '_', '.' or '-'"),
            Qos = Optional(r, map, "qos", what, Name, "a name of letters, digits, '_', '.' or '-'"),
            Extra = ReadExtra(r, map, what),
        };
    }

    public static IReadOnlyList<string> ReadExtra(YamlReader r, YamlMappingNode map, string what)
    {
        var extras = r.StringList(map, "extra", what).Select(e => Expand(r, r.Get(map, "extra")!, e, $"{what}.extra")).ToArray();
        foreach (var e in extras)
            if (!e.StartsWith("--", StringComparison.Ordinal) || e.Contains('\n'))
                throw r.Error(ErrorCodes.BadResource, r.Get(map, "extra")!, $"'{what}.extra' entries must be single sbatch options such as '--constraint=a100', not '{e}'.");
            else if (OwnOption(e) is { } own)
                throw r.Error(ErrorCodes.BadResource, r.Get(map, "extra")!,
                    $"'{what}.extra' entry '{e}' sets (or abbreviates) --{own}, which KdGat sets for every job itself ({OwnOptions[own]}); extra lines come after KdGat's, so it would win. Remove the entry.");
        return extras;
    }

    /// <summary>
    /// sbatch options KdGat writes itself, and what they are for. A habitual '--output=slurm-%j.out' in
    /// extra overrode KdGat's: its logs were never written, and a failed stage's KDG3001 named a log that
    /// did not exist (a review).
    /// </summary>
    private static readonly Dictionary<string, string> OwnOptions = new(StringComparer.Ordinal)
    {
        ["job-name"] = "the name a later build finds its jobs by",
        ["output"] = "the stage's log in its run dir, which KdGat shows and keeps",
        ["error"] = "the stage's error log in its run dir, whose tail a failure shows",
        ["comment"] = "the attempt id a retried sbatch finds its job by",
        ["array"] = "one job per stage instance: an array would run the command several times in one run dir",
    };

    /// <summary>Which of KdGat's own options an entry sets, also abbreviated as sbatch takes them (--out=x is --output).</summary>
    private static string? OwnOption(string entry)
    {
        var name = entry[2..].Split('=', 2)[0].Trim();
        // Any prefix: sbatch takes a unique one (--ou, --j, --ar: a review), and an ambiguous one (--o) it refuses anyway.
        return name.Length == 0 ? null : OwnOptions.Keys.FirstOrDefault(o => o.StartsWith(name, StringComparison.Ordinal));
    }

    private static T? Optional<T>(YamlReader r, YamlMappingNode map, string key, string what, Func<string, T?> parse, string expected) where T : struct
    {
        var node = r.Get(map, key);
        if (node is null || YamlReader.IsNull(node)) return null;
        var text = Expand(r, node, r.Scalar(node, $"{what}.{key}").Trim(), $"{what}.{key}");
        return parse(text) ?? throw r.Error(ErrorCodes.BadResource, node, $"'{what}.{key}' must be {expected}, not '{text}'.");
    }

    private static string? Optional(YamlReader r, YamlMappingNode map, string key, string what, Func<string, string?> parse, string expected)
    {
        var node = r.Get(map, key);
        if (node is null || YamlReader.IsNull(node)) return null;
        var text = Expand(r, node, r.Scalar(node, $"{what}.{key}").Trim(), $"{what}.{key}");
        return parse(text) ?? throw r.Error(ErrorCodes.BadResource, node, $"'{what}.{key}' must be {expected}, not '{text}'.");
    }

    /// <summary>
    /// $NAME, ${NAME} -> the variable's value in the orchestrator's environment (a site's account or
    /// partition kept out of the shared config). Not fingerprinted, like every resource: where a
    /// job runs does not change what it computes.
    /// </summary>
    private static string Expand(YamlReader r, YamlNode node, string text, string field) => PathExpansion.Variables(r, node, text, field);

    private static string? Name(string s) => NamePattern().IsMatch(s) ? s : null;

    /// <summary>sbatch --partition takes a comma-separated list: "cpu,gpu" (no spaces, no empty names).</summary>
    public static string? Partitions(string s) => s.Split(',').All(p => NamePattern().IsMatch(p)) ? s : null;

    /// <summary>"2" or "a100:2" (what sbatch --gpus takes).</summary>
    private static (int Count, string? Type)? ParseGpus(string s)
    {
        var colon = s.LastIndexOf(':');
        var type = colon < 0 ? null : Name(s[..colon]);
        if (colon >= 0 && type is null) return null;
        return Count(s[(colon + 1)..], 0) is { } n ? (n, type) : null;
    }

    private static int? Count(string s, int min) =>
        int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out var v) && v >= min ? v : null;

    public static long? ParseMemMb(string s)
    {
        var m = MemPattern().Match(s);
        if (!m.Success) return null;
        var n = double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
        var mb = m.Groups[2].Value.ToUpperInvariant() switch
        {
            "K" => n / 1024, "" or "M" => n, "G" => n * 1024, "T" => n * 1024 * 1024, _ => -1,
        };
        return mb >= 1 && mb <= MaxMemMb ? (long)Math.Ceiling(mb) : null;
    }

    /// <summary>1 PiB: past it a value is a slip, and an out-of-memory retry's mem x attempt would overflow (found by review).</summary>
    public const long MaxMemMb = 1L << 30;

    /// <summary>
    /// <c>time: UNLIMITED</c> (or INFINITE): no limit of the job's own (the partition's MaxTime still
    /// applies). A plain 0 is refused as before (likely a slip); retries multiply it and keep it.
    /// </summary>
    public const int UnlimitedMinutes = 0;

    /// <summary>The longest time accepted (100 years): its retries' multiples stay far inside an int (they overflowed to negative --time values).</summary>
    public const int MaxMinutes = 100 * 365 * 1440;

    /// <summary>
    /// sbatch's --time formats, read the way SLURM reads them (so a value copied from a job script
    /// means the same here): M, M:S, H:M:S, D-H, D-H:M, D-H:M:S. Seconds round up to a minute.
    /// </summary>
    public static int? ParseMinutes(string s)
    {
        // sbatch's words for no limit (SLURM's time_str2mins reads them in any case): --time=UNLIMITED.
        if (s.Equals("UNLIMITED", StringComparison.OrdinalIgnoreCase) || s.Equals("INFINITE", StringComparison.OrdinalIgnoreCase)) return UnlimitedMinutes;
        if (int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out var minutes)) return minutes is > 0 and <= MaxMinutes ? minutes : null;
        var days = 0;
        var dash = s.IndexOf('-');
        if (dash > 0)
        {
            if (!int.TryParse(s[..dash], NumberStyles.None, CultureInfo.InvariantCulture, out days)) return null;
            s = s[(dash + 1)..];
        }
        var parts = s.Split(':');
        if (parts.Length > 3 || parts.Any(p => p.Length == 0 || !int.TryParse(p, NumberStyles.None, CultureInfo.InvariantCulture, out _))) return null;
        var v = parts.Select(p => int.Parse(p, CultureInfo.InvariantCulture)).ToArray();
        if (dash <= 0 && v.Length == 1) return null; // a bare number was handled above
        // With a day count the first field is hours; without, M:S or H:M:S.
        int h, m, sec;
        if (dash > 0) (h, m, sec) = (v[0], v.Length > 1 ? v[1] : 0, v.Length > 2 ? v[2] : 0);
        else if (v.Length == 2) (h, m, sec) = (0, v[0], v[1]);
        else (h, m, sec) = (v[0], v[1], v[2]);
        if (sec > 59 || (v.Length > 1 && m > 59 && (dash > 0 || v.Length == 3)) || (dash > 0 && h > 23)) return null;
        var total = days * 1440L + h * 60L + m + (sec > 0 ? 1 : 0); // long: 3000000-0 wrapped around an int
        return total is > 0 and <= MaxMinutes ? (int)total : null;
    }
}
