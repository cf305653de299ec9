using KdGat.Core.Config;
using KdGat.Core.Diagnostics;
using KdGat.Core.IO;

namespace KdGat.Core.Pipeline;

/// <summary>
/// One stage for one dataset (and, for a swept stage, one point of its grid), with every path
/// resolved. Run dir: {runs}/{dataset}/{stage}/ ({runs}/{dataset}/{stage}/{variant}/ when swept),
/// holding the stage's outputs (unless a placeholder puts them elsewhere), its manifest,
/// params.json and logs/.
/// </summary>
public sealed partial class StageInstance
{
    public const string ManifestFileName = "kdgat.manifest.json";

    internal StageInstance(PipelineLayout layout, string dataset, StageConfig config, IReadOnlyList<StageInstance> upstreams, SweepAssignment? sweep = null)
    {
        Layout = layout;
        Dataset = dataset;
        Sweep = sweep ?? SweepAssignment.None;
        Config = Sweep.IsEmpty ? config : WithSweptParams(config, Sweep);
        Upstreams = upstreams;
        RunDir = Path.Combine(layout.RunsRoot, dataset, Slot);
        RawDir = layout.Resolve(layout.Config.RawDir, dataset);
        CacheDir = layout.Resolve(layout.Config.CacheDir, dataset);
        var where = $"stage '{Name}'";
        RequiredOutputs = config.Outputs.Select((o, i) => AtEntry(config.OutputsAt, i, () => Declared(RunDir, RenderPath(o, where + " outputs"), where + " outputs"))).ToArray();
        Outputs = RequiredOutputs.Concat(config.OptionalOutputs.Select((o, i) => AtEntry(config.OutputsAt, config.Outputs.Count + i,
            () => Declared(RunDir, RenderPath(o, where + " optional_outputs"), where + " optional_outputs")))).ToArray();
        Inputs = config.Inputs.Select((p, i) => AtEntry(config.InputsAt, i, () => Declared(layout.Root, RenderPath(p, where + " inputs"), where + " inputs"))).ToArray();
        foreach (var code in Config.Code)
            if (layout.OutputRules.CodeProblem(code) is { } codeProblem)
            {
                var (line, column) = Config.CodeAt.GetValueOrDefault(code, (Config.Line, Config.Column));
                throw new KdgException(ErrorCodes.CodeCoversState,
                    $"stage '{Name}': code entry '{code}' {codeProblem}, so the stage would never be up to date. Name the folders or patterns that hold its code (src/, scripts/**/*.py); a wildcard pattern (**/*.py) leaves KdGat's state and the folders stages write out.",
                    layout.Config.File, line, column);
            }
        // (code first: a code entry over the runs folder is the cause of its outputs' KDG1204 too)
        foreach (var o in Outputs)
        {
            if (layout.OutputRules.ListingError(this, o) is { } listing) throw listing;
            if (layout.OutputRules.Problem(this, o) is { } problem) throw layout.OutputRules.Error(this, o, problem);
        }
        if (MetricsFile.DeclaredTwice(this) is { } metrics) throw metrics;
    }

    /// <summary>An error rendering a declared path points at its entry (its line in inputs: or outputs:), not only at the stage.</summary>
    private string AtEntry(IReadOnlyList<(int Line, int Column)> places, int index, Func<string> render)
    {
        try { return render(); }
        catch (KdgException e) when (e.File is null && index < places.Count)
        {
            throw e.At(Layout.Config.File, places[index].Line, places[index].Column);
        }
    }

    /// <summary>
    /// Where a declared input or output (a path of <see cref="Inputs"/> or <see cref="Outputs"/>) is written in the
    /// configuration; the stage's entry for any other path (one its command names).
    /// </summary>
    public (int Line, int Column) PlaceOf(string path)
    {
        var i = IndexOf(Inputs, path);
        if (i >= 0 && i < Config.InputsAt.Count) return Config.InputsAt[i];
        var o = IndexOf(Outputs, path);
        if (o >= 0 && o < Config.OutputsAt.Count) return Config.OutputsAt[o];
        return (Config.Line, Config.Column);

        static int IndexOf(IReadOnlyList<string> paths, string path)
        {
            for (var k = 0; k < paths.Count; k++)
                if (string.Equals(paths[k], path, StringComparison.Ordinal)) return k;
            return -1;
        }
    }

    public PipelineLayout Layout { get; }
    public string Dataset { get; }
    public StageConfig Config { get; }
    public string Name => Config.Name;
    /// <summary>The grid point of a swept instance; <see cref="SweepAssignment.None"/> otherwise.</summary>
    public SweepAssignment Sweep { get; }
    /// <summary>"seed=1,lr=0.003", or "" for an unswept instance.</summary>
    public string Variant => Sweep.Variant;
    /// <summary>"stage" or "stage/variant": the instance within its dataset, as run dirs, records and state dirs lay it out.</summary>
    public string Slot => Sweep.IsEmpty ? Name : $"{Name}/{Sweep.Variant}";
    /// <summary>"stage" or "stage.seed_1-lr_0.003": the instance within its dataset in job names, attempt and record ids.</summary>
    public string IdName => Sweep.IsEmpty ? Name : $"{Name}.{Sweep.IdText}";
    /// <summary>
    /// "dataset-stage" or "dataset-stage.seed_1-lr_0.003": the instance within its build, as attempt ids,
    /// run record ids and SLURM job names and comments carry it. Stage and dataset names may hold '.', '_'
    /// and '-', so two instances can get the same one; loading refuses that (KDG1034, KDG1035).
    /// </summary>
    public string Id => $"{Dataset}-{IdName}";
    public string Key => $"{Dataset}/{Slot}";
    public IReadOnlyList<StageInstance> Upstreams { get; }
    public string RunDir { get; }
    public string RawDir { get; }
    public string CacheDir { get; }
    /// <summary>Every declared output, required first, then optional: what is guarded, cached, owned and cleaned.</summary>
    public IReadOnlyList<string> Outputs { get; }
    /// <summary>The outputs a successful run must have written (KDG3002 otherwise); optional ones may be absent.</summary>
    public IReadOnlyList<string> RequiredOutputs { get; }
    public bool IsOptional(int outputIndex) => outputIndex >= RequiredOutputs.Count;
    public IReadOnlyList<string> Inputs { get; }
    public string ManifestPath => Path.Combine(RunDir, ManifestFileName);
    public string LogDir => Path.Combine(RunDir, "logs");

    /// <summary>Whether one of its code patterns (relative to the root) covers the file: its bytes are in the fingerprint (a wildcard does not reach the folders stages write).</summary>
    public bool CodeCovers(string path) => Config.Code.Any(g =>
        PathText.IsUnder(path, System.IO.Path.Combine(Layout.Root, g)) || Hashing.Glob.HasWildcard(g) && Hashing.Glob.Covers(Layout.Root, g, path, Layout.WrittenFolders));

    /// <summary>A file below the root its command or setup names, where it is written (<see cref="DependencyCheck.UncoveredNamedFiles"/>).</summary>
    internal sealed record NamedFile(string What, string Path, (int Line, int Column) At);

    /// <summary>Files of its own below the root its command or setup names (filled when the pipeline loads: <see cref="DependencyCheck"/>).</summary>
    internal List<NamedFile> NamedFiles { get; } = [];
    public string ParamsFilePath => Path.Combine(RunDir, "params.json");

    /// <summary>The command to run, values shell-quoted.</summary>
    public string RenderCommand() => Rendered(fingerprint: false);

    /// <summary>
    /// The command rendered, an error in it at the command's place in the configuration: a here-document
    /// around a placeholder (KDG1037) was said at pipeline.proj, since it is found only here (a review).
    /// </summary>
    private string Rendered(bool fingerprint) => PipelineLayout.AtStage(Layout.Config.File, Config,
        () => CommandTemplate.Render(Config.Command, n => Lookup(n, fingerprint), shell: true, $"stage '{Name}' command", KnownPlaceholders, KnownList), Config.CommandAt);

    /// <summary>The command as the fingerprint sees it: paths inside the root relative to it, outside it absolute, so clones and shared caches agree.</summary>
    /// <param name="toolsNow">The tools as they are now, not as this build first found them (<see cref="PipelineLayout.ToolsInFingerprint"/>).</param>
    /// <summary>The tools files its command runs (<see cref="PipelineLayout.ToolFilesIn"/>): null for the whole folder, empty for none.</summary>
    internal IReadOnlyList<string>? ToolFiles() =>
        Layout.ToolFilesIn(Rendered(fingerprint: true));

    public string RenderCommandForFingerprint(bool toolsNow = false) =>
        Layout.ToolsInFingerprint(Rendered(fingerprint: true), toolsNow);

    /// <summary>
    /// Every path the stage names, for <see cref="DependencyCheck"/>: path placeholders in the
    /// command, absolute words of the rendered command (<c>{root}/data/cache/x</c>) and relative ones
    /// with a '/' (<c>../gat/model.ckpt</c>, from the run dir and from the folder of every earlier
    /// <c>cd DIR</c>, which is named itself), inputs, outputs.
    /// Rendering the command here also makes its placeholder errors load-time errors.
    /// </summary>
    /// <remarks><c>Whole</c> marks the path a placeholder gives as such (also when the word it stands in names a file below it:
    /// <c>{raw_dir}/frames.csv</c>): a dependency on its owner, not a read of all of it. <c>Cut</c> marks the piece
    /// before an '=' in a word (also a <c>Piece</c>): a guess at the start of a point's folder, whose whole word is named too.</remarks>
    internal IEnumerable<(string What, string Path, bool Piece, bool Whole, bool Cut, bool Sure)> ReferencedPaths()
    {
        var named = new List<(string, string, bool, bool, bool, bool)>();
        // Each path a placeholder gives stands in the text as a token without word separators, so a
        // run dir such as teacher/seed=0,lr=0.1 stays one word however the words are split below.
        var paths = new List<string>();
        var text = CommandTemplate.Render(Config.Command, n =>
        {
            var v = Lookup(n, fingerprint: false);
            if (v is not { Raw: false } x || !Path.IsPathRooted(x.Text)) return v;
            if (n is not ("root" or "tools")) named.Add(("command", x.Text, false, true, false, false));
            paths.Add(x.Text);
            return new CommandTemplate.Value($"\u0001{paths.Count - 1}\u0001");
        }, shell: false, $"stage '{Name}' command", KnownPlaceholders, KnownList);
        // Its setup lines run first, in the same shell (a `cd` there moves the command too): their words are read
        // as the command's are (setup is not a template). A review found `cp ../other_stage/model.ckpt .` in
        // setup unchecked, the stage up to date for good after the other stage changed.
        // A line that only loads modules or environments names packages, not paths ('module load cuda/12.1' read
        // from a swept stage's folder after 'cd ..' was another point's output: a review); one that does more is read.
        if (Config.Setup.Count > 0) text = string.Concat(Config.Setup.Select(l => (LoadsEnvironmentOnly(l) ? "" : l) + "\n")) + SetupEnds + "\n" + text;
        var what = Config.Setup.Count > 0 ? "setup" : "command";
        // A word (a path may hold '=' and ',' itself: a sweep point's run dir, seed=0,lr=0.1), what
        // follows each '=' or ',' in it (--graphs=/x), and each piece between them (--caches=/x,/y).
        // A piece before an '=' may also be the start of a point's run dir such as seed=0,lr=0.1
        // ("../seed" of "../seed=0,lr=0.1"): those are marked, so the folder above a swept stage's points
        // does not count them (DependencyCheck). A piece before a ',' never is (a run dir's first
        // separator is an '='): "../sx" of "--runs=../sx,x" names the folder above sx's points.
        // The command runs in the run dir: a relative one with a '/' ("../gat/model.ckpt") names a path from there,
        // and, after a `cd DIR` (or pushd) anywhere before it, from DIR too (`cd {root} && cat runs/x/m.json`):
        // every folder it may be in then, whichever branch of the shell ran.
        var bases = new List<string> { RunDir };
        var cdNext = false;
        foreach (var token in CommandWords.Split(text))
        {
            if (token.Length == 0) continue;
            if (token == SetupEnds) { what = "command"; cdNext = false; continue; } // a bare `cd` ending the setup goes home
            var word = PathToken().Replace(token, m => paths[int.Parse(m.Groups[1].ValueSpan, System.Globalization.CultureInfo.InvariantCulture)]);
            if (cdNext && word.StartsWith('-') && word != "-") continue; // cd -P, cd --
            var cdTarget = cdNext;
            cdNext = word is "cd" or "pushd";
            if (cdTarget && word.Length <= MaxPathChars && !word.StartsWith('~') && !word.StartsWith('$') && word != "-")
            {
                // The folder itself is named (also "..", without a '/'), and later relative words are read from it too.
                // As a piece: cd reads nothing below it ("cd .." is the dataset's runs folder, above every
                // stage: a review found it refused), only a cd into another stage's output counts.
                var targets = word.StartsWith('/') ? [Path.GetFullPath(word)] : bases.Select(b => Path.GetFullPath(Path.Combine(b, word))).ToArray();
                foreach (var t in targets)
                {
                    named.Add((what, t, true, false, false, false));
                    if (bases.Count < MaxCdBases && !bases.Contains(t, StringComparer.Ordinal)) bases.Add(t);
                }
                continue; // named above as the folder it is, not again as a word that reads below it
            }
            // Suffixes only after the first few separators: each is a copy of the rest of the word, and a
            // word of the 128 KB a command may have, all commas, would otherwise copy gigabytes.
            // The word itself names a path for sure, unless a separator in it starts another absolute path
            // (--models=/x/a.pt,/x/b.pt, --out=/x): then it is a flag or a list, and its pieces are the paths.
            var list = word.Length > 1 && Enumerable.Range(0, word.Length - 1).Any(i => word[i] is '=' or ',' && word[i + 1] == '/');
            var n = 0;
            for (var from = 0; from >= 0; from = word.IndexOfAny(['=', ','], from) is var at and >= 0 ? at + 1 : -1, n++)
            {
                var whole = n < MaxSuffixesPerWord && Add(word[from..], piece: false, sure: from == 0 && !list);
                // A piece before '=' is a cut (no raw or cache data of its own) only when the word from here was named whole:
                // past the first separators, or a word refused as a path, the piece is all that is checked (a review).
                if (word.IndexOfAny(['=', ','], from) is var end and >= 0) Add(word[from..end], piece: word[end] == '=', cut: word[end] == '=' && whole);
            }
        }
        return named.Concat(Inputs.Select(i => ("inputs", i, false, false, false, false))).Concat(Outputs.Select(o => ("outputs", o, false, false, false, false)));

        // sure: a whole word, absolute or read from the run dir (not one of the folders an earlier cd may have
        // gone to, whichever branch ran): the path the program is handed, not a guess (KDG1042 asks only these).
        bool Add(string candidate, bool piece, bool cut = false, bool sure = false)
        {
            // Longer than PATH_MAX, it names nothing the system would open; and checking it costs its
            // length times its depth (the owners above each of its folders).
            if (candidate.Length > MaxPathChars) return false;
            if (candidate.StartsWith('/')) named.Add((what, candidate, piece, false, cut, sure));
            else if (candidate.Contains('/') && !candidate.Contains("://", StringComparison.Ordinal) && !candidate.StartsWith('~') && !UpAfterSeparator(candidate))
                foreach (var b in bases) named.Add((what, Path.GetFullPath(Path.Combine(b, candidate)), piece, false, cut, sure && b == RunDir));
            else return false;
            return true;
        }

        // "--data=../../../prep/out" as a whole is not a path: its '..' would climb out of "--data=..".
        // The path is what follows the '=' (a candidate of its own).
        static bool UpAfterSeparator(string candidate)
        {
            var segments = candidate.Split('/');
            for (var i = 1; i < segments.Length; i++)
                if (segments[i] == ".." && segments[i - 1].IndexOfAny(['=', ',']) >= 0) return true;
            return false;
        }
    }

    /// <summary>
    /// A setup entry that only loads modules or activates an environment: every line of it (a YAML '|'
    /// entry 'module load x' then 'cp ../a/model .' was passed over whole), output sent to /dev/null at
    /// most, and not `conda run` or `spack python`, which run anything (a review found both unchecked).
    /// </summary>
    private static bool LoadsEnvironmentOnly(string entry)
    {
        var lines = entry.Split('\n').Select(l => ToDevNull().Replace(l.TrimEnd('\r'), "")).Where(l => l.Trim().Length > 0).ToArray();
        return lines.Length > 0 && lines.All(EnvironmentLine().IsMatch);
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"^[ \t]*(?:(?:module|ml)[ \t]|(?:conda|mamba|micromamba)[ \t]+(?:activate|deactivate)\b|spack[ \t]+(?:load|unload|env[ \t]+(?:activate|deactivate))\b)[^;&|`$()<>]*\z")]
    private static partial System.Text.RegularExpressions.Regex EnvironmentLine();

    /// <summary>`2>/dev/null`, `>/dev/null`, `&>/dev/null`, `2>&1`: output thrown away names no file a stage reads.</summary>
    [System.Text.RegularExpressions.GeneratedRegex(@"[ \t]*(?:(?:[0-9]?>>?|&>)[ \t]*/dev/null|[0-9]>&[0-9])")]
    private static partial System.Text.RegularExpressions.Regex ToDevNull();

    /// <summary>Between the setup lines and the command in <see cref="ReferencedPaths"/>' text: no word of either can be it.</summary>
    private const string SetupEnds = "\u0002";
    private const int MaxSuffixesPerWord = 16;
    /// <summary>Folders a relative word is read from: the run dir and the targets of up to 15 `cd`s (each relative one taken from every folder before it).</summary>
    private const int MaxCdBases = 16;
    private const int MaxPathChars = 4096;

    // Generated at compile time: RegexOptions.Compiled emitted and JIT-compiled it in every MSBuild process (~7 ms of a no-op).
    [System.Text.RegularExpressions.GeneratedRegex(@"[\s'"";&|<>()`]+")]
    private static partial System.Text.RegularExpressions.Regex CommandWordsRegex();
    private static readonly System.Text.RegularExpressions.Regex CommandWords = CommandWordsRegex();
    [System.Text.RegularExpressions.GeneratedRegex("\u0001([0-9]+)\u0001")]
    private static partial System.Text.RegularExpressions.Regex PathToken();

    /// <summary>A declared path in full; '..' out of a symbolic link is KDG1018 (see <see cref="PathText.LinkBeforeDotDot"/>).</summary>
    internal static string Declared(string baseDir, string path, string where)
    {
        if (PathText.LinkBeforeDotDot(baseDir, path) is { } link)
            throw new KdgException(ErrorCodes.PathUpThroughSymlink,
                $"{where}: '{path}' goes up ('..') out of '{link}', a symbolic link (to '{new DirectoryInfo(link).LinkTarget}'): the system reads from the parent of the link's target, while the path as written names '{Path.GetFullPath(Path.Combine(baseDir, path))}', so KdGat would hash another file than the command reads. Write the path without '..' after the link (name the folder it means directly).");
        return Path.GetFullPath(Path.Combine(baseDir, path));
    }

    private string RenderPath(string template, string where) => CommandTemplate.Render(template, n => Lookup(n, fingerprint: false), shell: false, where, knownList: KnownList);

    private CommandTemplate.Value? Lookup(string name, bool fingerprint)
    {
        CommandTemplate.Value P(string full) => new(fingerprint ? PathText.ForFingerprint(Layout.Root, full) : full);
        switch (name)
        {
            case "dataset": return new(Dataset);
            case "stage" or "run": return new(Name);
            case "root": return new(fingerprint ? "<root>" : Layout.Root);
            case "tools": return new(fingerprint ? PipelineLayout.ToolsMarker : Layout.ToolsDir);
            case "run_dir": return P(RunDir);
            case "raw_dir": return P(RawDir);
            case "cache_dir": return P(CacheDir);
            case "params_file": return P(ParamsFilePath);
            case "variant": return Sweep.IsEmpty ? null : new(Variant); // unknown unswept, as {seed} and {sweep.NAME}
            case "teacher":
                return Config.Teacher is null ? null : P(Upstreams.First(u => u.Name == Config.Teacher).RunDir);
        }
        if (name.StartsWith("params.", StringComparison.Ordinal))
            return Config.Params.TryGetValue(name[7..], out var v) ? new(v.Text) : null;
        if (name.StartsWith("sweep.", StringComparison.Ordinal))
            return Sweep.Get(name[6..]) is { } sv ? new(sv.Text) : null;
        if (name == "seed") return Sweep.Get("seed") is { } seed ? new(seed.Text) : null;
        if (name.StartsWith("vars.", StringComparison.Ordinal))
            return Layout.Config.Vars.TryGetValue(name[5..], out var t) ? new(t, Raw: true) : null;
        if (name.StartsWith("upstream.", StringComparison.Ordinal))
        {
            var up = Upstreams.FirstOrDefault(u => u.Name == name[9..]);
            if (up is null && Layout.Config.Stages.ContainsKey(name[9..])) throw DependencyCheck.NotNeeded(Config, Layout.Config.File, name[9..]);
            return up is null ? null : P(up.RunDir);
        }
        return null;
    }

    private string KnownList => Sweep.IsEmpty ? CommandTemplate.UnsweptStagePlaceholders : CommandTemplate.StagePlaceholders;

    /// <summary>The placeholders a did-you-mean offers for this instance's text: the fixed ones, its parameters, vars and upstreams.</summary>
    private IEnumerable<string> KnownPlaceholders() =>
        new[] { "dataset", "stage", "run", "root", "tools", "run_dir", "raw_dir", "cache_dir", "params_file" }
            .Concat(Sweep.IsEmpty ? [] : ["variant"])
            .Concat(Config.Teacher is null ? [] : ["teacher"])
            .Concat(Config.Params.Keys.Select(k => "params." + k))
            .Concat(Layout.Config.Vars.Keys.Select(k => "vars." + k))
            .Concat(Upstreams.Select(u => "upstream." + u.Name));

    public override string ToString() => Key;

    /// <summary>
    /// Every swept value is a parameter of the instance, so it is in params.json and the fingerprint:
    /// a value of the stage's own dimensions overrides its parameter of the same name; one of a
    /// dimension it only inherits from an upstream does not (the GAT's swept lr is not the DQN's lr).
    /// </summary>
    private static StageConfig WithSweptParams(StageConfig c, SweepAssignment sweep)
    {
        var p = new SortedDictionary<string, ParamValue>(c.Params.ToDictionary(kv => kv.Key, kv => kv.Value), StringComparer.Ordinal);
        var sources = new Dictionary<string, string>(c.ParamSources, StringComparer.Ordinal);
        var own = c.Sweep.Select(d => d.Name).ToHashSet(StringComparer.Ordinal);
        foreach (var i in sweep.Items)
        {
            if (!own.Contains(i.Name) && p.ContainsKey(i.Name)) continue;
            p[i.Name] = i.Value;
            sources[i.Name] = i.Source;
        }
        return c with { Params = p, ParamSources = sources };
    }
}
