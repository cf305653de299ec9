using System.Text.Json;
using System.Text.RegularExpressions;
using KdGat.Core.Engine;

namespace KdGat.Testing;

/// <summary>
/// A copy of the pipeline (pipeline.proj, targets/, kdgat.yaml, models/) in a temp dir, built
/// with real `dotnet msbuild`. <see cref="Trivial"/> swaps the sample stages for shell one-liners
/// so the orchestration, not the models, is what a test exercises.
/// </summary>
public sealed class Sandbox : IDisposable
{
    private Sandbox(string dir) => Dir = dir;

    public string Dir { get; }
    /// <summary>
    /// Environment for every build of this sandbox (e.g. KDGAT_CACHE for a shared output store).
    /// Every build checks a no-op certificate that holds against the full check (KDG9002 when they
    /// disagree), so each test that settles and changes something tests certificates too.
    /// </summary>
    public Dictionary<string, string> Env { get; } = new() { ["KDGAT_NOOP_CERTIFICATE"] = "verify" };
    public string Config => Path.Combine(Dir, "kdgat.yaml");
    public string RunDir(string dataset, string stage) => Path.Combine(Dir, "experimentruns", dataset, stage);
    public string RawFile(string dataset) => Path.Combine(Dir, "data", "automotive", dataset, "frames.csv");

    /// <summary>The repository's pipeline with the bundled sample stages.</summary>
    public static Sandbox Sample()
    {
        var s = new Sandbox(NewDir());
        foreach (var f in new[] { "pipeline.proj", "kdgat.yaml", "Directory.Build.rsp" }) File.Copy(Path.Combine(Repo.Root, f), Path.Combine(s.Dir, f));
        CopyTree(Path.Combine(Repo.Root, "targets"), Path.Combine(s.Dir, "targets"));
        CopyTree(Path.Combine(Repo.Root, "models"), Path.Combine(s.Dir, "models"));
        return s;
    }

    /// <summary>The same DAG with trivial stage commands: each writes its params and upstream outputs into its outputs.</summary>
    public static Sandbox Trivial()
    {
        var s = Sample();
        s.EditConfig(c =>
        {
            c = c.Replace("generator: '{vars.sample} generate --dataset {dataset} --out {raw_dir}'",
                          "generator: 'mkdir -p {raw_dir} && printf \"frames of %s\\n\" {dataset} > {raw_dir}/frames.csv'");
            c = Regex.Replace(c, @"command: '\{vars\.sample\} preprocess[^']*'", "command: 'mkdir -p {cache_dir} && cat {raw_dir}/frames.csv {params_file} > {cache_dir}/graphs.bin'");
            // Training and evaluation concatenate what they read (params, graphs, upstream and teacher
            // models), so a changed input changes their output and the change propagates.
            c = Regex.Replace(c, @"command: '\{vars\.sample\} (autoencoder|curriculum|fusion|evaluate)[^']*'", m =>
            {
                var reads = Regex.Matches(m.Value, @"\{(upstream\.\w+|teacher)\}").Select(u => u.Value + "/model.ckpt");
                return m.Groups[1].Value == "evaluate"
                    ? $"command: 'printf \"{{{{\\\"f1\\\": 0.5, \\\"bytes\\\": %s}}}}\" $(cat {string.Join(' ', reads)} | wc -c) > metrics.json'"
                    : $"command: 'cat {{params_file}} {{cache_dir}}/graphs.bin {string.Join(' ', reads)} > model.ckpt && : > curves.jsonl && echo {{stage}} > train_log.json'";
            });
            return c;
        });
        return s;
    }

    public void EditConfig(Func<string, string> edit) => File.WriteAllText(Config, edit(File.ReadAllText(Config)));

    /// <summary>
    /// Turns on the documented `defaults.sweep` line of the bundled kdgat.yaml with these seeds
    /// (preprocess opts out). In the trivial pipeline an evaluation's f1 becomes 0.{seed}.
    /// </summary>
    public Sandbox WithSeeds(string seeds = "0, 1, 2")
    {
        const string off = "  # sweep: { seed: [0, 1, 2] }";
        EditConfig(c =>
        {
            if (!c.Contains(off, StringComparison.Ordinal)) throw new InvalidOperationException("the defaults.sweep line of kdgat.yaml is not there");
            return c.Replace(off, $"  sweep: {{ seed: [{seeds}] }}", StringComparison.Ordinal)
                    .Replace("0.5, \\\"bytes\\\": %s}}\"", "0.%s, \\\"bytes\\\": %s}}\" {seed}", StringComparison.Ordinal);
        });
        return this;
    }

    /// <summary>Prefixes one stage's command with shell text (e.g. to make it fail for one dataset).</summary>
    public void PrefixCommand(string stage, string shellPrefix) => EditConfig(c =>
    {
        var m = Regex.Match(c, $@"(\n  {Regex.Escape(stage)}:\n(?:    .*\n)*?    command: ')");
        if (!m.Success) throw new InvalidOperationException($"stage {stage} not found in config");
        return c.Insert(m.Index + m.Length, shellPrefix.Replace("'", "''"));
    });

    public ProcessResult Build(params string[] args) => MSBuild(args);

    /// <summary>
    /// A no-op build once every file the last build wrote is older than the hash cache's racy margin, so every
    /// row it hashes is saved: the cache is settled afterwards (a build right after the last one may leave rows racy).
    /// The margin is on the file system's clock, so that is the clock waited on: a probe file's mtime.
    /// </summary>
    public ProcessResult BuildSettled(params string[] args)
    {
        WaitPastRacyMargin();
        return MSBuild(args);
    }

    /// <summary>Until the file system's clock is past the hash cache's racy margin after the last build's report.</summary>
    public void WaitPastRacyMargin()
    {
        var lastWrite = File.GetLastWriteTimeUtc(Path.Combine(Dir, ".kdgat", "last-build.json"));
        var margin = TimeSpan.FromTicks(KdGat.Core.Hashing.HashCache.RacyMarginNs / 100);
        var probe = Path.Combine(Dir, ".kdgat", "settle-probe.tmp");
        Eventually.Until(() => { File.WriteAllText(probe, ""); return File.GetLastWriteTimeUtc(probe) > lastWrite + margin; },
            TimeSpan.FromSeconds(60), "the file system's clock passes the racy margin after the last build", poll: TimeSpan.FromMilliseconds(100));
        File.Delete(probe);
    }

    public ProcessResult MSBuild(IEnumerable<string> args, TimeSpan? timeout = null) =>
        ProcessRunner.Run("dotnet", MSBuildArgs(args), Dir, timeout ?? TimeSpan.FromMinutes(5), Env);

    /// <summary>Starts a build without waiting (for kill, Ctrl+C and concurrency tests).</summary>
    public System.Diagnostics.Process Start(IEnumerable<string> args, out System.Text.StringBuilder output) =>
        ProcessRunner.Start("dotnet", MSBuildArgs(args), Dir, Env, out output);

    public IEnumerable<string> MSBuildArgs(IEnumerable<string> args) =>
        new[] { "msbuild", "pipeline.proj", "-nologo", "-v:m", $"-p:KdGatToolsDir={Tools.Path}", "-p:KdGatSkipBootstrap=true" }.Concat(args);

    /// <summary>
    /// The JSON -getTargetResult (or -getProperty/-getItem) printed: its first value, from the first '{'.
    /// A warning the build says (KDG1013 in every sandbox: the bundled code pattern names src/, which
    /// sandboxes do not copy) may be printed after it, so the rest is not parsed (callers also pass
    /// -noWarn:KDG1013, so that no line can land inside it).
    /// </summary>
    public static JsonElement MSBuildJson(ProcessResult r)
    {
        var reader = new Utf8JsonReader(System.Text.Encoding.UTF8.GetBytes(r.Output[r.Output.IndexOf('{')..]));
        using var doc = JsonDocument.ParseValue(ref reader);
        return doc.RootElement.Clone();
    }

    public BuildReport LastBuild() => BuildReport.Read(Path.Combine(Dir, ".kdgat", "last-build.json"))
        ?? throw new InvalidOperationException("no last-build.json");

    /// <summary>Like <see cref="With"/>, with a swept instance's variant: "hcrl_sa/gat_large_curriculum/seed=1".</summary>
    public static string[] Instances(BuildReport r, string outcome) =>
        r.Stages.Where(s => s.Outcome == outcome).Select(s => s.Variant is null ? $"{s.Dataset}/{s.Stage}" : $"{s.Dataset}/{s.Stage}/{s.Variant}").Order(StringComparer.Ordinal).ToArray();

    public static string[] With(BuildReport r, string outcome) =>
        r.Stages.Where(s => s.Outcome == outcome).Select(s => $"{s.Dataset}/{s.Stage}").Order(StringComparer.Ordinal).ToArray();

    public void Dispose()
    {
        try { Directory.Delete(Dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    private static string NewDir()
    {
        var d = Path.Combine(Path.GetTempPath(), "kdgat-e2e-" + Guid.NewGuid().ToString("N")[..10]);
        Directory.CreateDirectory(d);
        return d;
    }

    /// <summary>A copy of the repository's src/ (without bin/ and obj/) and the Directory.* files its projects import: what the bootstrap builds the tools from.</summary>
    public static void CopyToolSources(string to)
    {
        CopyTree(Path.Combine(Repo.Root, "src"), Path.Combine(to, "src"));
        foreach (var name in new[] { "Directory.Build.props", "Directory.Build.targets", "Directory.Packages.props" })
            File.Copy(Path.Combine(Repo.Root, name), Path.Combine(to, name));
    }

    public static void CopyTree(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var f in Directory.EnumerateFiles(from)) File.Copy(f, Path.Combine(to, Path.GetFileName(f)));
        foreach (var d in Directory.EnumerateDirectories(from))
        {
            var name = Path.GetFileName(d);
            if (name is "bin" or "obj") continue;
            CopyTree(d, Path.Combine(to, name));
        }
    }

    /// <summary>A second sandbox holding a byte-for-byte copy of this one (state, outputs, data).</summary>
    public Sandbox Clone()
    {
        var s = new Sandbox(NewDir());
        CopyTreeAll(Dir, s.Dir);
        return s;
    }

    private static void CopyTreeAll(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var f in Directory.EnumerateFiles(from)) File.Copy(f, Path.Combine(to, Path.GetFileName(f)));
        foreach (var d in Directory.EnumerateDirectories(from)) CopyTreeAll(d, Path.Combine(to, Path.GetFileName(d)));
    }
}
