using System.Globalization;
using System.Text;
using KdGat.Core.Engine;
using KdGat.Core.Hashing;
using KdGat.Core.IO;

namespace KdGat.Core.NoOp;

/// <summary>
/// What a build that found every selected instance up to date looked at, and what it answered:
/// every file-system observation of its full content check (<see cref="FileObservations"/>), the
/// keys of the request (its plan and build task parameters, the environment, KdGat's own code),
/// and the stamps and report rows it produced. The next build with the same keys asks the same
/// questions again (statx, directory listings: no content is read, no YAML parsed, no fingerprint
/// computed); only when every answer is the same does it give the recorded result, else it runs the
/// full check as before. So it can only ever say "up to date" where the full check, run now, would
/// say so too: the same identities mean the same bytes (the hash cache's rule, racy files excluded),
/// the same listings the same globs and walks. The README's "No-op certificate" says what it covers.
/// </summary>
internal sealed class NoOpCertificate
{
    /// <summary>The format's version: a certificate of another one is not read (none is found, the full check runs and writes a new one). v2: warn lines. v3: SHA-256 digests (CertificateHash).</summary>
    private const string Header = "kdgat-noop v3";

    /// <summary>Certificates kept (the most recently written), one per combination of request keys.</summary>
    public const int Kept = 8;

    /// <summary>Most observations one certificate holds (~100 bytes each); a larger build is simply not certified.</summary>
    public const int MaxObservations = 2_000_000;

    public required string PlanKey { get; init; }
    public required string BuildKey { get; init; }
    public required string Executor { get; init; }
    public required IReadOnlyList<string> Datasets { get; init; }
    public required IReadOnlyList<StageStamps.Entry> Stamps { get; init; }
    /// <summary>The stage graph the stamps were planned with (every stage and its Needs): the build task compares the graph it is given.</summary>
    public IReadOnlyList<Pipeline.StageDeclaration> PlanGraph { get; init; } = [];
    /// <summary>The report rows: dataset, stage, variant (null when unswept), all up to date.</summary>
    public required IReadOnlyList<(string Dataset, string Stage, string? Variant)> Rows { get; init; }
    public required IReadOnlyList<(FileObservations.Probe Probe, string Path, string Answer)> Observations { get; init; }
    /// <summary>
    /// The load-time warnings the certified build said (a code pattern matching no file, KDG1013): a pure
    /// function of what it observed (the configuration's bytes, the globs' listings), said again, the
    /// same code, file, line, column and text, whenever the certificate answers.
    /// </summary>
    public IReadOnlyList<Diagnostics.Diagnostic> Warnings { get; init; } = [];

    /// <summary>KDGAT_NOOP_CERTIFICATE: a no word (<see cref="Config.YesNo"/>: off, 0, ...) never uses or writes one; "verify" checks every use against the full check (tests).</summary>
    public const string Variable = "KDGAT_NOOP_CERTIFICATE";

    public static bool Disabled => Off(Environment.GetEnvironmentVariable(Variable));
    public static bool Verifying => IsVerify(Environment.GetEnvironmentVariable(Variable));

    internal static bool Off(string? value) => Config.YesNo.Read(value) == false;
    private static bool IsVerify(string? value) => value?.Trim().Equals("verify", StringComparison.OrdinalIgnoreCase) == true;

    /// <summary>KDG1220: a value of KDGAT_NOOP_CERTIFICATE that means neither off nor verify nor on (a typo such as "of" left certificates on without a word).</summary>
    public static Diagnostics.Diagnostic? SettingWarning(string? value, string? pipelineFile) =>
        value?.Trim() is not { Length: > 0 } v || Config.YesNo.Read(v) is not null || IsVerify(v) ? null
        : new(Diagnostics.Severity.Warning, Diagnostics.ErrorCodes.NoOpSettingUnknown,
            $"{Variable}={Diagnostics.ConsoleText.Printable(v)} is not a value KdGat reads, so no-op certificates are used as without it. Set it to off (never use or write one) or on ({Config.YesNo.Words}), or verify (check every use against the full check), or unset it.",
            string.IsNullOrEmpty(pipelineFile) ? null : pipelineFile, 0, 0);

    public static string DirOf(string root) => Path.Combine(Path.GetFullPath(root), Pipeline.PipelineLayout.StateDirName, "noop");
    /// <summary>One file per plan and build key: -t:Train and -t:Evaluate (one plan, two builds) keep one each.</summary>
    private static string FileOf(string root, string planKey, string buildKey) => Path.Combine(DirOf(root), planKey + "." + buildKey);

    /// <summary>
    /// The certificate for this plan key, when every observation it holds is still answered the
    /// same; null otherwise (none, damaged, another build key, anything changed). The existence
    /// probes (attempt journals, aside dirs) are asked before and after the rest, as the fast path
    /// of one instance does: an attempt that began meanwhile shows as one of them.
    /// </summary>
    public static NoOpCertificate? Find(string root, string planKey)
    {
        if (Disabled || !Directory.Exists(DirOf(root))) return null;
        // Newest first: the order to try them in, never whether one holds.
        foreach (var file in new DirectoryInfo(DirOf(root)).EnumerateFiles(planKey + ".*").OrderByDescending(f => f.LastWriteTimeUtc))
            if (Read(file.FullName) is { } cert && cert.PlanKey == planKey && file.Name == planKey + "." + cert.BuildKey && cert.StillHolds()) return cert;
        return null;
    }

    /// <summary>The certificate of this plan and build key when it still holds (the build task's own, when the plan found another build's).</summary>
    public static NoOpCertificate? Find(string root, NoOpCertificate planFound, string buildKey)
    {
        var cert = planFound.BuildKey == buildKey ? planFound : Read(FileOf(root, planFound.PlanKey, buildKey));
        return cert is not null && cert.PlanKey == planFound.PlanKey && cert.BuildKey == buildKey && cert.StillHolds() ? cert : null;
    }

    /// <summary>Every observation asked again, now, with the same answer (<see cref="FileObservations.AnsweredTheSame"/>).</summary>
    public bool StillHolds()
    {
        var (existence, rest) = _partition ??= Partition(Observations);
        return FileObservations.AnsweredTheSame(existence) && FileObservations.AnsweredTheSame(rest) && FileObservations.AnsweredTheSame(existence);
    }

    /// <summary>The existence probes and the rest, split once: the plan and the build task may replay the same certificate.</summary>
    private ((FileObservations.Probe, string, string)[] Existence, (FileObservations.Probe, string, string)[] Others)? _partition;

    private static ((FileObservations.Probe, string, string)[], (FileObservations.Probe, string, string)[]) Partition(
        IEnumerable<(FileObservations.Probe Probe, string Path, string Answer)> observations)
    {
        var existence = observations.ToLookup(o => o.Probe is FileObservations.Probe.FileExists or FileObservations.Probe.DirectoryExists);
        return (existence[true].ToArray(), existence[false].ToArray());
    }

    public static void Write(string root, NoOpCertificate cert)
    {
        var text = new StringBuilder();
        text.Append(Header).Append('\n');
        Line(text, "plan", cert.PlanKey);
        Line(text, "build", cert.BuildKey);
        Line(text, "executor", cert.Executor);
        foreach (var d in cert.Datasets) Line(text, "dataset", d);
        foreach (var s in cert.Stamps) Line(text, "stamp", s.Dataset, s.Stage, s.Stamp, s.Marker);
        foreach (var g in cert.PlanGraph) Line(text, "graph", g.Name, string.Join(';', g.Needs));
        foreach (var (dataset, stage, variant) in cert.Rows) Line(text, "row", dataset, stage, variant ?? "");
        foreach (var w in cert.Warnings)
            Line(text, "warn", w.Code ?? "", w.File ?? "", w.Line.ToString(CultureInfo.InvariantCulture), w.Column.ToString(CultureInfo.InvariantCulture), w.Message);
        foreach (var (probe, path, answer) in cert.Observations.OrderBy(o => o.Path, StringComparer.Ordinal).ThenBy(o => o.Probe))
            Line(text, "o", ((char)probe).ToString(), path, answer);
        var sum = CertificateHash.Of(text.ToString());
        text.Append("sum\t").Append(sum).Append('\n');
        var dir = DirOf(root);
        Directory.CreateDirectory(dir);
        AtomicFile.WriteAllText(FileOf(root, cert.PlanKey, cert.BuildKey), text.ToString());
        Prune(dir);
    }

    /// <summary>
    /// A stage the build task was given whose Needs differ from the graph the certified plan was
    /// made with (null: none, or no graph recorded). Stages only one side has are not compared:
    /// a build runs a subset of the stage targets, and a plan may not reach every one of them.
    /// </summary>
    public string? StageWithOtherNeeds(IEnumerable<Pipeline.StageDeclaration> given)
    {
        var planned = PlanGraph.GroupBy(s => s.Name, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First().Needs, StringComparer.Ordinal);
        return given.FirstOrDefault(s => planned.TryGetValue(s.Name, out var needs) && !needs.ToHashSet(StringComparer.Ordinal).SetEquals(s.Needs))?.Name;
    }

    /// <summary>Deletes every certificate of a plan key (its plan no longer describes MSBuild's view).</summary>
    public static void Forget(string root, string planKey)
    {
        try
        {
            if (Directory.Exists(DirOf(root)))
                foreach (var file in new DirectoryInfo(DirOf(root)).EnumerateFiles(planKey + ".*")) file.Delete();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
    }

    /// <summary>Whether every value can go on a line of its own field (no tab or line break in a path or name).</summary>
    public static bool Writable(IEnumerable<string> values) => values.All(v => v.IndexOfAny(['\t', '\n', '\r']) < 0);

    private static void Line(StringBuilder text, string kind, params string[] fields)
    {
        text.Append(kind);
        foreach (var f in fields) text.Append('\t').Append(f);
        text.Append('\n');
    }

    /// <summary>Only the newest <see cref="Kept"/> stay (file times choose what to delete, never what is up to date).</summary>
    private static void Prune(string dir)
    {
        try
        {
            foreach (var old in new DirectoryInfo(dir).EnumerateFiles().Where(f => !AtomicFile.IsTempName(f.Name))
                         .OrderByDescending(f => f.LastWriteTimeUtc).Skip(Kept))
                old.Delete();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
    }

    /// <summary>The certificate in a file; null when it is missing, not a regular file, or damaged (bad checksum, unknown line).</summary>
    internal static NoOpCertificate? Read(string file)
    {
        using var _ = FileObservations.Pause(); // KdGat's own file: what it holds is checked, not observed
        string text;
        try
        {
            if (PathStat.Of(file).Kind != PathKind.File) return null;
            text = SmallFile.ReadAllText(file, 1L << 30);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return null; }
        var sumAt = text.LastIndexOf("sum\t", StringComparison.Ordinal);
        if (!text.StartsWith(Header + "\n", StringComparison.Ordinal) || sumAt < 0 || (sumAt > 0 && text[sumAt - 1] != '\n')
            || text[(sumAt + 4)..].TrimEnd('\n') != CertificateHash.Of(text[..sumAt]))
            return null;
        string? plan = null, build = null, executor = null;
        var datasets = new List<string>();
        var stamps = new List<StageStamps.Entry>();
        var graph = new List<Pipeline.StageDeclaration>();
        var rows = new List<(string, string, string?)>();
        var warnings = new List<Diagnostics.Diagnostic>();
        var observations = new List<(FileObservations.Probe, string, string)>();
        var body = text.AsSpan(Header.Length + 1, sumAt - Header.Length - 1);
        while (body.Length > 0)
        {
            var end = body.IndexOf('\n');
            var line = end < 0 ? body : body[..end];
            body = end < 0 ? [] : body[(end + 1)..];
            if (line.Length == 0) continue;
            if (line.StartsWith("o\t") && Observation(line[2..]) is { } o) { observations.Add(o); continue; }
            var f = line.ToString().Split('\t');
            switch (f[0])
            {
                case "plan" when f.Length == 2: plan = f[1]; break;
                case "build" when f.Length == 2: build = f[1]; break;
                case "executor" when f.Length == 2: executor = f[1]; break;
                case "dataset" when f.Length == 2: datasets.Add(f[1]); break;
                case "stamp" when f.Length == 5: stamps.Add(new(f[1], f[2], f[3], f[4], Outcome.UpToDate, [])); break;
                case "graph" when f.Length == 3: graph.Add(new(f[1], f[2].Split(';', StringSplitOptions.RemoveEmptyEntries))); break;
                case "row" when f.Length == 4: rows.Add((f[1], f[2], f[3].Length == 0 ? null : f[3])); break;
                case "warn" when f.Length == 6 && int.TryParse(f[3], NumberStyles.None, CultureInfo.InvariantCulture, out var at)
                                               && int.TryParse(f[4], NumberStyles.None, CultureInfo.InvariantCulture, out var column):
                    warnings.Add(new(Diagnostics.Severity.Warning, f[1].Length == 0 ? null : f[1], f[5], f[2].Length == 0 ? null : f[2], at, column));
                    break;
                default: return null;
            }
        }
        if (plan is null || build is null || executor is null) return null;
        return new NoOpCertificate
        {
            PlanKey = plan, BuildKey = build, Executor = executor, Datasets = datasets, Stamps = stamps, PlanGraph = graph, Rows = rows, Observations = observations, Warnings = warnings,
        };
    }

    /// <summary>An observation line's fields after "o\t": probe letter, path, answer; null when it has not exactly three.</summary>
    private static (FileObservations.Probe, string, string)? Observation(ReadOnlySpan<char> fields)
    {
        var a = fields.IndexOf('\t');
        if (a != 1) return null;
        var rest = fields[2..];
        var b = rest.IndexOf('\t');
        if (b < 0 || rest[(b + 1)..].Contains('\t')) return null;
        return ((FileObservations.Probe)fields[0], rest[..b].ToString(), rest[(b + 1)..].ToString());
    }

    /// <summary>
    /// What a request's result depends on besides the files it looks at: every field of the
    /// request (a field added later is refused until it is formatted here), the task's extra
    /// inputs, KdGat's own code, where and as whom it runs, and the environment (stages declare
    /// variables, the configuration expands them, KdGat reads its own KDGAT_* settings) but for
    /// the few a shell changes between two commands.
    /// </summary>
    public static string KeyOf(BuildRequest request, params string[] extra)
    {
        var text = new StringBuilder(Header).Append('\n');
        text.Append(typeof(NoOpCertificate).Assembly.ManifestModule.ModuleVersionId).Append('\n');
        // {tools} in a fingerprint has the runtime the programs roll forward to (PipelineLayout): a runtime
        // patch installed without a new SDK changes no file a certificate observes (found by review).
        text.Append(System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription).Append('\n');
        text.Append(Environment.CurrentDirectory).Append('\n').Append(Environment.MachineName).Append('\n').Append(Environment.UserName).Append('\n');
        foreach (var (name, value) in FieldsOf(request))
            text.Append(name).Append('=').Append(Format(value)).Append('\n');
        foreach (var e in extra) text.Append("extra=").Append(e).Append('\n');
        var env = Environment.GetEnvironmentVariables();
        foreach (var name in env.Keys.Cast<string>().Where(n => !ShellOwn.Contains(n)).Order(StringComparer.Ordinal))
            text.Append("env:").Append(name).Append('=').Append(env[name] as string).Append('\0');
        return CertificateHash.Of(text.ToString());
    }

    /// <summary>
    /// Every field of the request, named. Written out rather than read by reflection: its 24 getters'
    /// invoke stubs were compiled in every no-op (~2 % of it). NoOpCertificateTests.EveryRequestField_IsInTheKey
    /// fails when a field added to <see cref="BuildRequest"/> is missing here.
    /// </summary>
    private static (string Name, object? Value)[] FieldsOf(BuildRequest r) =>
    [
        (nameof(r.AdoptOverwrite), r.AdoptOverwrite),
        (nameof(r.Audit), r.Audit),
        (nameof(r.CancelOnAbort), r.CancelOnAbort),
        (nameof(r.ConfigFile), r.ConfigFile),
        (nameof(r.Datasets), r.Datasets),
        (nameof(r.DecisionTable), r.DecisionTable),
        (nameof(r.Executor), r.Executor),
        (nameof(r.FailIfStale), r.FailIfStale),
        (nameof(r.FromEnvironment), r.FromEnvironment),
        (nameof(r.GlobalPropertyNames), r.GlobalPropertyNames),
        (nameof(r.LiveReportFile), r.LiveReportFile),
        (nameof(r.LiveReportRefreshSeconds), r.LiveReportRefreshSeconds),
        (nameof(r.MaxParallelStages), r.MaxParallelStages),
        (nameof(r.Mode), r.Mode),
        (nameof(r.OnlyStage), r.OnlyStage),
        (nameof(r.PipelineFile), r.PipelineFile),
        (nameof(r.PublishReport), r.PublishReport),
        (nameof(r.Root), r.Root),
        (nameof(r.SaveHashCache), r.SaveHashCache),
        (nameof(r.StageWithDownstream), r.StageWithDownstream),
        (nameof(r.Stages), r.Stages),
        (nameof(r.Sweep), r.Sweep),
        (nameof(r.ToolsDir), r.ToolsDir),
        (nameof(r.VerifyHashes), r.VerifyHashes),
        (nameof(r.Wait), r.Wait),
    ];

    /// <summary>
    /// Variables a shell or terminal changes between two commands, which nothing KdGat runs or reads
    /// depends on (a stage that declares one has it observed like any variable); MSBuild's own
    /// _MSBUILDTLENABLED, which -tl:on sets for its terminal logger; and the certificate's own switch
    /// (it changes how a result is found, not the result).
    /// </summary>
    private static readonly HashSet<string> ShellOwn = new(StringComparer.Ordinal) { "_", "OLDPWD", "SHLVL", "COLUMNS", "LINES", "_MSBUILDTLENABLED", Variable };

    internal static string Format(object? value) => value switch
    {
        null => "<null>",
        string s => "\"" + s + "\"",
        bool or int or Enum => Convert.ToString(value, CultureInfo.InvariantCulture)!,
        IEnumerable<Pipeline.StageDeclaration> stages => string.Join('\u001e', stages.Select(s => s.Name + "\u001d" + string.Join('\u001d', s.Needs))),
        IEnumerable<Engine.EnvironmentProperty> properties => string.Join('\u001e', properties.Select(p => p.Property + "\u001d" + p.Variable + "\u001d" + p.Value)),
        IEnumerable<string> names => string.Join('\u001e', names.Order(StringComparer.Ordinal)), // a set (GlobalPropertyNames)
        _ => throw new InvalidOperationException($"{nameof(NoOpCertificate)}.{nameof(KeyOf)} does not know how to key a {value.GetType().Name}: add it, so that a request field cannot be left out of the key"),
    };
}
