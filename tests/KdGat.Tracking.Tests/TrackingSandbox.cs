using KdGat.Testing;

namespace KdGat.Tracking.Tests;

/// <summary>
/// The trivial-command sandbox of the end-to-end tests, with helpers to run tracking targets.
/// </summary>
internal static class TrackingSandbox
{
    public static Sandbox Create() => Sandbox.Trivial();

    public static ProcessResult Ok(this Sandbox s, params string[] args)
    {
        var r = s.Build(args);
        if (r.ExitCode != 0) throw new Xunit.Sdk.XunitException($"dotnet msbuild {string.Join(' ', args)} failed:\n{r}");
        return r;
    }

    /// <summary>The rows Status printed: "dataset/stage  state  detail" lines.</summary>
    public static string[] StatusRows(ProcessResult r) =>
        r.Output.Split('\n').Select(l => l.Trim()).Where(l => System.Text.RegularExpressions.Regex.IsMatch(l, @"^\w+/\w+\s+(up-to-date|stale|running|interrupted|failed)\b")).ToArray();

    public static string IndexDb(Sandbox s) => Path.Combine(s.Dir, ".kdgat", "index.db");

    public static string[] RecordFiles(Sandbox s) =>
        Directory.Exists(Path.Combine(s.Dir, ".kdgat", "records"))
            ? Directory.GetFiles(Path.Combine(s.Dir, ".kdgat", "records"), "*.json", SearchOption.AllDirectories)
            : [];
}
