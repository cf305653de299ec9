using System.Diagnostics;
using System.Globalization;
using System.Text;
using KdGat.Core.Engine;
using KdGat.Testing;
using Xunit;
using Xunit.Abstractions;

namespace KdGat.EndToEnd.Tests.Differential;

/// <summary>
/// The promise "an incremental build equals a from-scratch build", tested differentially: a
/// seeded random sequence of user edits of the sample pipeline; after each one an incremental
/// build of the tree (output cache on) is compared file by file with a copy of the same tree
/// built from scratch (Clean, then build, cache off). KDGAT_DIFF_SEED and KDGAT_DIFF_MUTATIONS
/// override the seed and the count (bench/differential.sh runs 300).
/// </summary>
[Trait("Category", "EndToEnd")]
public sealed class DifferentialTests
{
    private const int DefaultSeed = 11;
    private const int DefaultMutations = 30;
    private readonly ITestOutputHelper _out;

    public DifferentialTests(ITestOutputHelper output) => _out = output;

    [Fact]
    public void IncrementalBuild_IsByteIdenticalToFromScratchBuild_AfterEverySeededMutation()
    {
        var seed = FromEnv("KDGAT_DIFF_SEED", DefaultSeed);
        var count = FromEnv("KDGAT_DIFF_MUTATIONS", DefaultMutations);
        var store = Path.Combine(Path.GetTempPath(), "kdgat-diff-store-" + Guid.NewGuid().ToString("N")[..8]);
        var clock = Stopwatch.StartNew();
        using var tree = Sandbox.Sample();
        tree.Env["KDGAT_CACHE"] = store;
        tree.Env["KDGAT_NOOP_CERTIFICATE"] = "verify";
        // KDGAT_DIFF_SERVER=1: the incremental builds go through one MSBuild server, so what a
        // long-lived process keeps between builds (LoadedPipelineCache) meets every mutation.
        var server = FromEnv("KDGAT_DIFF_SERVER", 0) == 1;
        if (server)
            foreach (var (k, v) in ServerEnv) tree.Env[k] = v;
        var mutator = new PipelineMutator(tree, seed);
        var applied = new List<string>();
        try
        {
            mutator.Prepare();
            Step(tree, seed, applied, "initial build");
            for (var i = 1; i <= count; i++)
            {
                applied.Add($"#{i} {mutator.Next()}");
                Step(tree, seed, applied, applied[^1]);
            }
            _out.WriteLine($"seed {seed}: {count} mutations, incremental == from scratch every time{(server ? " (incremental builds through the MSBuild server)" : "")}; {clock.Elapsed.TotalSeconds:F0} s");
        }
        finally
        {
            if (server) ProcessRunner.Run("dotnet", ["build-server", "shutdown", "--msbuild"], tree.Dir, TimeSpan.FromMinutes(1), tree.Env);
            try { Directory.Delete(store, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }

    /// <summary>Incremental build of the tree, then a from-scratch build of a copy; fails with the seed and every mutation so far on any difference.</summary>
    private void Step(Sandbox tree, int seed, List<string> applied, string what)
    {
        var clock = Stopwatch.StartNew();
        var server = tree.Env.ContainsKey("DOTNET_CLI_USE_MSBUILD_SERVER");
        var incremental = server ? tree.Build("-t:Evaluate", "-nodeReuse:true") : tree.Build("-t:Evaluate");
        if (incremental.ExitCode != 0) Fail(seed, applied, "the incremental build failed", incremental.ToString());
        var incrementalReport = tree.LastBuild();
        var outcomes = incrementalReport.Stages.GroupBy(s => s.Outcome).Select(g => $"{g.Key} {g.Count()}").Order(StringComparer.Ordinal);

        var incrementalSeconds = clock.Elapsed.TotalSeconds;
        using var scratch = tree.Clone();
        foreach (var (k, v) in tree.Env.Where(e => !ServerEnv.ContainsKey(e.Key))) scratch.Env[k] = v; // from scratch: a process of its own
        scratch.Env["KDGAT_CACHE"] = "off";
        var rebuild = scratch.Build("-t:Rebuild"); // Clean, then Evaluate
        if (rebuild.ExitCode != 0) Fail(seed, applied, "the from-scratch build failed", rebuild.ToString());
        var report = scratch.LastBuild();
        if (report.Stages.Any(s => s.Outcome != Outcome.Ran)) Fail(seed, applied, "the from-scratch build did not run every stage", string.Join("\n", report.Stages.Select(s => $"{s.Dataset}/{s.Stage}: {s.Outcome}")));

        var a = Outputs(tree.Dir);
        var b = Outputs(scratch.Dir);
        var diffs = a.Keys.Union(b.Keys).Order(StringComparer.Ordinal)
            .Where(k => !a.TryGetValue(k, out var x) || !b.TryGetValue(k, out var y) || !x.AsSpan().SequenceEqual(y))
            .Select(k => $"{k}: incremental {Describe(a, k)}, from scratch {Describe(b, k)}").ToArray();
        if (diffs.Length > 0)
            Fail(seed, applied, "outputs differ", string.Join("\n", diffs) + "\nthe incremental build: " + string.Join(", ", tree.LastBuild().Stages.Select(s => $"{s.Dataset}/{s.Stage} {s.Outcome}")));
        // A settled no-op (the from-scratch build took longer than the racy margin) leaves a no-op
        // certificate (below) the next mutation must void: every build here runs with KDGAT_NOOP_CERTIFICATE=verify,
        // so a certificate that holds when the full check finds something to do fails the build (KDG9002).
        var noop = server ? tree.BuildSettled("-t:Evaluate", "-nodeReuse:true") : tree.BuildSettled("-t:Evaluate");
        if (noop.ExitCode != 0 || tree.LastBuild().Stages.Any(s => s.Outcome != Outcome.UpToDate)) Fail(seed, applied, "the no-op after the incremental build was not one", noop.ToString());
        // The newest certificate is the settled no-op's own, or, when a certificate answered it (verify: the full check
        // agreed), the incremental build's: after an edit that changes no result (an equivalent number) that build is a
        // no-op too, and one that began more than the racy margin after the edit (a slow start under load) certifies it
        // itself. Only a no-op can write one: a certificate answering after a build that ran or restored anything was
        // written before that build. Through the server a pipeline kept from an earlier build was loaded then, not
        // observed now: no certificate.
        var settled = tree.LastBuild();
        var answered = settled.NoOpCertificate == true;
        var writer = answered ? incrementalReport : settled;
        if (answered && incrementalReport.Stages.Any(s => s.Outcome != Outcome.UpToDate))
            Fail(seed, applied, "a no-op certificate answered the settled no-op after an incremental build that was not a no-op", noop.ToString());
        var certificates = Path.Combine(tree.Dir, ".kdgat", "noop");
        var written = server || writer.NoOpCertificate == true ? DateTime.MaxValue
            : Directory.Exists(certificates) ? Directory.EnumerateFiles(certificates).Where(f => !Path.GetFileName(f).StartsWith('.')).Select(File.GetLastWriteTimeUtc).DefaultIfEmpty(DateTime.MinValue).Max()
            : DateTime.MinValue; // not a clock probe or temp file (".clock-*.tmp", ".NAME.*.tmp"): certificates only
        if (written < writer.StartedUtc.UtcDateTime.AddSeconds(-2))
            Fail(seed, applied, !answered ? "the settled no-op wrote no no-op certificate" : "a no-op certificate answered the settled no-op, but the incremental no-op did not write it", noop.ToString());
        if (applied.Count % 10 == 0 && !server)
        {
            // Now and then the certificate answers (checked against the full check: verify).
            var certified = tree.Build("-t:Evaluate");
            if (certified.ExitCode != 0 || tree.LastBuild().NoOpCertificate != true) Fail(seed, applied, "the no-op certificate did not answer a no-op", certified.ToString());
        }
        _out.WriteLine($"{what}: {string.Join(", ", outcomes)}; {a.Count} files equal; incremental {incrementalSeconds:F1} s, " +
            $"from scratch {clock.Elapsed.TotalSeconds - incrementalSeconds:F1} s (stages {report.Stages.Sum(s => s.Seconds ?? 0):F1} s)");
    }

    /// <summary>Every declared output (run dirs and the graph cache) and params.json; not logs, manifests, records or KdGat's state.</summary>
    private static Dictionary<string, byte[]> Outputs(string dir)
    {
        IEnumerable<string> Files(string sub) => Directory.Exists(Path.Combine(dir, sub))
            ? Directory.EnumerateFiles(Path.Combine(dir, sub), "*", SearchOption.AllDirectories)
            : [];
        return Files("experimentruns").Concat(Files(Path.Combine("data", "cache")))
            .Select(f => Path.GetRelativePath(dir, f))
            .Where(rel => !rel.Split('/').Any(part => part is "logs" or ".kdgat") && Path.GetFileName(rel) != "kdgat.manifest.json")
            .ToDictionary(rel => rel, rel => File.ReadAllBytes(Path.Combine(dir, rel)), StringComparer.Ordinal);
    }

    private static string Describe(Dictionary<string, byte[]> files, string key) =>
        files.TryGetValue(key, out var bytes) ? $"{bytes.Length} bytes, sha256 {Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(bytes))[..12]}" : "absent";

    private static void Fail(int seed, List<string> applied, string problem, string detail)
    {
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"differential test: {problem} after mutation {applied.LastOrDefault() ?? "(none: initial build)"}\n");
        sb.Append(CultureInfo.InvariantCulture, $"replay: KDGAT_DIFF_SEED={seed} KDGAT_DIFF_MUTATIONS={applied.Count}\n");
        sb.Append("mutations:\n");
        foreach (var m in applied) sb.Append("  ").Append(m).Append('\n');
        sb.Append(detail);
        Assert.Fail(sb.ToString());
    }

    private static readonly Dictionary<string, string> ServerEnv = new()
    {
        ["DOTNET_CLI_USE_MSBUILD_SERVER"] = "1", ["MSBUILDDISABLENODEREUSE"] = "0", ["MSBUILDENSURESTDOUTFORTASKPROCESSES"] = "0",
    };

    private static int FromEnv(string name, int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable(name), NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v : fallback;
}
