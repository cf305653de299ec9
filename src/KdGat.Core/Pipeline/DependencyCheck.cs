using KdGat.Core.Diagnostics;
using KdGat.Core.IO;

namespace KdGat.Core.Pipeline;

/// <summary>
/// The fingerprint of a stage covers the outputs of the stages in its Needs, its declared inputs,
/// and nothing else. A stage that reads another stage's outputs without needing it (its command
/// passes <c>{cache_dir}</c>, a path under another run dir or output or a folder above them, or an
/// <c>inputs:</c> entry there: KDG1011), another dataset's outputs (KDG1038), or raw data no input
/// covers (a path in a raw dir, or a folder above raw dirs below the root: KDG1039) would stay "up to
/// date" when those change, so such a pipeline is refused when it loads, before anything runs.
/// </summary>
internal static class DependencyCheck
{
    /// <summary>Checks the stage instances of one dataset (all of them, in dependency order).</summary>
    public static void Verify(IReadOnlyList<StageInstance> dataset)
    {
        if (dataset.Count == 0) return;
        var layout = dataset[0].Layout;
        var root = PathMap<Owners>.Normalize(layout.Root);
        var owners = new PathMap<Owners>(); // first added wins, as before
        var real = new RealPaths(layout, dataset[0]);
        foreach (var inst in dataset)
        {
            owners.Add(inst.RunDir, new([inst], false));
            foreach (var o in inst.Outputs) owners.Add(o, new([inst], false));
        }
        // A swept stage's folder above the run dirs of its points: naming it, or a glob through it
        // (sx/*/out.txt), reads every point.
        foreach (var points in dataset.Where(i => !i.Sweep.IsEmpty).GroupBy(i => i.Name))
            owners.Add(Path.Combine(points.First().Layout.RunsRoot, points.First().Dataset, points.Key), new(points.ToArray(), true));
        foreach (var inst in dataset)
        {
            // Instances, not stage names: an instance depends on the one point of each stage it
            // needs whose sweep agrees with its own, and on no other point of its own stage.
            var upstreams = inst.Upstreams.ToHashSet();
            var cache = PathMap<Owners>.Normalize(inst.CacheDir);
            var missing = new SortedDictionary<string, (StageInstance Owner, string What, string Path)>(StringComparer.Ordinal);
            foreach (var (what, path, piece, whole, cut, sure) in PipelineLayout.AtStage(inst.Layout.Config.File, inst.Config, () => real.WithLinks(inst, owners).ToArray(), inst.Config.CommandAt))
            {
                // A glob reads below its literal base (eval_*/metrics.json: every eval_ run dir), and
                // a folder reads what lies below it ("ls experimentruns/{dataset}", the folder above a
                // swept stage's points), so the owners below such a path count as well as the one
                // it lies in. Not for the pipeline root and the folders above it (cd {root}; /tmp),
                // nor for the piece before an '=' ("../seed" of "../seed=0,lr=0.1": no folder).
                var at = PathMap<Owners>.Normalize(Hashing.Glob.HasWildcard(path) ? Hashing.Glob.LiteralBase(path) : path);
                var above = !piece && !(at == "/" || root == at || root.StartsWith(at + "/", StringComparison.Ordinal));
                // A glob word reads what it matches, no more: covered when the inputs match every
                // path it can match ('cat {raw_dir}/*' with inputs ['{raw_dir}/*']), whatever folder it starts in.
                var glob = Hashing.Glob.HasWildcard(path);
                List<DatasetAreas.Area>? rawBelow = null; // made only when there is one: this runs for every word of every instance
                var inArea = false; // at or below a runs, cache or raw folder of some dataset
                foreach (var (folder, area) in layout.DatasetAreas.Around(at, above))
                {
                    inArea |= PathText.IsUnder(at, folder);
                    if (!area.Raw && area.Dataset != inst.Dataset)
                        throw OtherDataset(inst, what, path, folder, area, PlaceOf(inst, what, path, real));
                    // Raw data the command names; the path a placeholder gives counts as its word:
                    // {raw_dir}/x.csv reads x.csv, not all of it.
                    // Not the piece before an '=' either: a guess at a point's folder ({cache_dir}/seed of
                    // {cache_dir}/seed=0), never a path of its own; the whole word is checked (a review).
                    if (!area.Raw || what is not ("command" or "setup") || whole || cut) continue;
                    if (PathText.IsUnder(at, folder))
                    {
                        if (!Covered(inst, at, folder: at == folder) && !(glob && GlobCovered(inst, path)))
                            throw Untracked(inst, what, path, folder, $"in {area.What}", area.Dataset == inst.Dataset ? "{raw_dir}" + (glob ? GlobFix(path, path[folder.TrimEnd('/').Length..], "") : "") : null);
                    }
                    // A folder above raw dirs ("ls {root}/data/automotive", a glob through it) reads
                    // all of them: each must be covered (not so the root and above: 'above' is false).
                    else if (!Covered(inst, folder, folder: true) && !(glob && (!GlobReaches(path, at, folder) || GlobCovered(inst, path)))) (rawBelow ??= []).Add(area);
                }
                if (rawBelow is not null) throw Untracked(inst, what, path, glob ? GlobFix(path, path, at) : at, $"above {RawOf(rawBelow)}", null);
                // Its dataset's cache dir where no stage writes is data like raw data (paths.cache is a
                // placeholder of its own, {cache_dir}, whether a stage writes it or not).
                if (what is "command" or "setup" && !whole && !cut && (at == cache || at.StartsWith(cache + "/", StringComparison.Ordinal))
                    && !owners.AtOrAbove(at).Any() && !owners.Below(at).Any() && !Covered(inst, at, folder: at == cache) && !(glob && GlobCovered(inst, path)))
                    throw Untracked(inst, what, path, inst.CacheDir, $"in the cache dir of dataset {inst.Dataset} (paths.cache), where no stage writes it", "{cache_dir}" + (glob ? GlobFix(path, path[cache.Length..], "") : ""));
                // A file of its own below the root, in nothing KdGat knows (a script: python3 {root}/scripts/summ.py):
                // kept for the load-time warning (KDG1040), which asks whether it is there and covered.
                var nearest = owners.AtOrAbove(at).FirstOrDefault();
                Owners[] holder = nearest.Value is { } held ? [held] : [];
                if (what is "command" or "setup" && !piece && !glob && !inArea && holder.Length == 0 && IsOwnFileCandidate(layout, root, at))
                    inst.NamedFiles.Add(new(what, at, PlaceOf(inst, what, path, real)));
                if (sure && what is "command" or "setup" && !glob && !path.Contains('$') && UndeclaredInUpstream(inst, at, nearest, owners, upstreams) is { } up)
                    throw NotAnOutput(inst, what, path, up, PlaceOf(inst, what, path, real));
                var found = holder.Where(o => !(piece && o.Folder));
                if (above) found = found.Concat(owners.Below(at).Select(e => e.Value));
                foreach (var owned in found)
                    foreach (var owner in owned.Points)
                        if (owner != inst && !upstreams.Contains(owner)) missing.TryAdd(owner.Slot, (owner, what, path));
            }
            if (missing.Count > 0) throw Undeclared(inst, missing.Values, real);
        }
    }

    /// <summary>
    /// The needed upstream in whose run dir <paramref name="at"/> names something it does not declare
    /// (model.json where its outputs: are [log.txt]); null otherwise. The fingerprint has a needed
    /// stage's declared outputs and params.json, not such a file: a rerun of the upstream that changed
    /// only it left the stage up to date (a user review; -t:Audit said it as KDG6007, after the fact).
    /// A folder above declared outputs reads them, and a word that starts declared outputs' names
    /// (--prefix {upstream.train}/model for model.pt, model.json) names them. A word with a shell
    /// variable ("$OLDPWD/out.txt" after a cd into the run dir) names no path KdGat can tell.
    /// </summary>
    /// <param name="nearest">The owner entry at or nearest above <paramref name="at"/> (the caller has looked it up).</param>
    private static StageInstance? UndeclaredInUpstream(StageInstance inst, string at, KeyValuePair<string, Owners> nearest, PathMap<Owners> owners, HashSet<StageInstance> upstreams)
    {
        if (nearest.Value is not { Folder: false, Points: [var up] } || up == inst || !upstreams.Contains(up)) return null;
        var runDir = PathMap<Owners>.Normalize(up.RunDir);
        if (nearest.Key != runDir || at == runDir || at == PathMap<Owners>.Normalize(up.ParamsFilePath) || owners.Below(at).Any()) return null;
        return up.Outputs.Any(o => PathMap<Owners>.Normalize(o).StartsWith(at, StringComparison.Ordinal)) ? null : up;
    }

    /// <summary>KDG1042: see <see cref="UndeclaredInUpstream"/>.</summary>
    private static KdgException NotAnOutput(StageInstance inst, string what, string path, StageInstance up, (int Line, int Column) at)
    {
        var name = PathText.ToStored(up.RunDir, path);
        return new(ErrorCodes.UndeclaredUpstreamFile,
            $"stage '{inst.Name}'{(inst.Sweep.IsEmpty ? "" : $" ({inst.Variant})")} (dataset {inst.Dataset}): {(what == "setup" ? "a line of its setup" : "its command")} names '{PathText.ToStored(inst.Layout.Root, path)}', " +
            $"in the run dir of {Describe(up)}, which does not declare it as an output. The fingerprint of '{inst.Name}' has the declared outputs of '{up.Name}' (and its params.json), not that file, " +
            $"so a rerun of '{up.Name}' that changes it would leave '{inst.Name}' wrongly up to date. Add '{name}' to the outputs: (or optional_outputs:) of stage '{up.Name}' in {Path.GetFileName(inst.Layout.Config.File)}, or name a file it declares.",
            inst.Layout.Config.File, at.Line, at.Column);
    }

    /// <summary>Strictly below the root, and in none of KdGat's own folders (the runs folder, .kdgat/, the tools).</summary>
    private static bool IsOwnFileCandidate(PipelineLayout layout, string root, string at) =>
        at.StartsWith(root + "/", StringComparison.Ordinal)
        && !PathText.IsUnder(at, layout.RunsRoot) && !PathText.IsUnder(at, layout.StateDir) && !PathText.IsUnder(at, layout.ToolsDir);

    /// <summary>
    /// KDG1040 (warning): a file below the pipeline root that a stage's command or setup names
    /// (python3 {root}/scripts/summ.py, source {root}/env.sh), outside every run dir, output, raw and
    /// cache dir and KdGat's own folders, that neither its inputs: nor its code: patterns cover. The
    /// fingerprint has the command's text, not that file, so an edit to it would leave the stage up
    /// to date (a user review: an edited summary script, the old summary reported current). A folder
    /// or glob word is not asked (-t:Audit sees what a stage really reads). Whether the file is there
    /// is observed, so the no-op certificate says the warning again exactly while it holds.
    /// </summary>
    public static IReadOnlyList<Diagnostic> UncoveredNamedFiles(IEnumerable<StageInstance> instances)
    {
        var warnings = new List<Diagnostic>();
        var said = new HashSet<(string Stage, string Path)>();
        foreach (var s in instances)
            foreach (var (what, path, (line, column)) in s.NamedFiles)
            {
                var stored = PathText.ToStored(s.Layout.Root, path);
                if (said.Contains((s.Name, stored)) || !NoOp.FileObservations.FileExists(path) || Covered(s, path) || s.CodeCovers(path)) continue;
                said.Add((s.Name, stored));
                warnings.Add(new Diagnostic(Severity.Warning, ErrorCodes.UncoveredNamedFile,
                    $"stage '{s.Name}': its {what} names '{stored}', a file below the pipeline root that none of the stage's inputs: or code: patterns covers, so an edit to it would leave the stage " +
                    $"up to date (its fingerprint has the {what}'s text, not that file's content). Add it to the stage's code ('code: [\"{stored}\"]', or a pattern such as '{Path.GetDirectoryName(stored)}/**' for its folder), " +
                    "or to defaults.code for every stage; data goes in inputs:.",
                    s.Layout.Config.File, line, column));
            }
        return warnings;
    }

    /// <summary>
    /// Whether a declared input of <paramref name="inst"/> covers <paramref name="path"/>: a folder or
    /// file at or above it, or a glob that matches it. A glob lists files, never a folder, so it
    /// covers a <paramref name="folder"/> only when it matches every file below it, whatever its
    /// name and depth ('raw/**'; not 'raw/*', the files directly in raw/ and none of raw/d1's):
    /// probed with names no pattern spells, one level and eight levels down.
    /// </summary>
    private static bool Covered(StageInstance inst, string path, bool folder = false) => inst.Inputs.Any(i =>
        !Hashing.Glob.HasWildcard(i) ? PathText.IsUnder(path, i)
        : folder ? FolderProbes.All(p => Hashing.Glob.Covers(inst.Layout.Root, i, path + p))
        : Hashing.Glob.Covers(inst.Layout.Root, i, path));

    /// <summary>
    /// Whether the inputs cover every path the command's glob <paramref name="glob"/> can match:
    /// probed with names no pattern spells in place of each wildcard ('*' several characters, '?'
    /// one, '**' zero, one and eight folders), each of which an input must cover as a file. The shell
    /// hands the program folders a glob matches too, which it may read whole: a last segment that
    /// can match a folder's name ('*', 'run_?'; not '*.csv') is probed below as well, so '{raw_dir}/*'
    /// as an input (its files, none of its subfolders') does not cover 'prep {raw_dir}/*'.
    /// </summary>
    private static bool GlobCovered(StageInstance inst, string glob) =>
        glob.Split('/').Count(segment => segment == "**") <= MaxProbedDoubleStars && Probes(glob).SelectMany(p => MatchesFolders(glob) ? FolderProbes.Select(f => p + f).Prepend(p) : [p]).All(p => Covered(inst, p));

    /// <summary>Its last segment has a wildcard and no extension: it may well match folders (see <see cref="GlobCovered"/>).</summary>
    private static bool MatchesFolders(string glob) => glob[(glob.LastIndexOf('/') + 1)..] is var last && Hashing.Glob.HasWildcard(last) && !last.Contains('.');

    /// <summary>The input to add for a glob the inputs do not cover: the glob itself, or, when it may match folders, its literal base (<paramref name="folderEntry"/>).</summary>
    private static string GlobFix(string glob, string globEntry, string folderEntry) => MatchesFolders(glob) ? folderEntry : globEntry;

    private static IEnumerable<string> Probes(string glob)
    {
        IEnumerable<string> paths = [""];
        foreach (var segment in glob.Split('/'))
        {
            var named = segment.Replace("*", Probe, StringComparison.Ordinal).Replace("?", "\u0001", StringComparison.Ordinal);
            paths = segment == "**"
                ? paths.SelectMany(p => new[] { p, p + "/" + Probe, p + string.Concat(Enumerable.Repeat("/" + Probe, 8)) })
                : paths.Select(p => p.Length == 0 && segment.Length == 0 ? "" : p + "/" + named);
        }
        return paths.Select(p => p.Replace("//", "/", StringComparison.Ordinal));
    }

    /// <summary>More '**' than this and a glob is not probed (3 probes each: 3^4 paths): it counts as uncovered, never as covered on a part of its probes.</summary>
    private const int MaxProbedDoubleStars = 4;

    private const string Probe = "\u0001\u0002\u0003";

    /// <summary>
    /// Whether the glob, starting at its literal base <paramref name="at"/>, can match a file inside
    /// <paramref name="folder"/> (a raw dir below it): with '**', or with more segments than the
    /// folder lies deep ('{root}/data/*.txt' never reaches data/automotive/hcrl_sa/).
    /// </summary>
    private static bool GlobReaches(string glob, string at, string folder)
    {
        var segments = Path.GetRelativePath(at, glob).Split('/');
        var depth = Path.GetRelativePath(at, folder).Split('/').Length;
        return segments.Contains("**") || segments.Length > depth;
    }

    private static readonly string[] FolderProbes = ["/" + Probe, string.Concat(Enumerable.Repeat("/" + Probe, 8))];

    /// <summary>"the raw data of dataset d2 (paths.raw)", or of several datasets (the first five named).</summary>
    private static string RawOf(IReadOnlyList<DatasetAreas.Area> areas) => areas.Count == 1 ? areas[0].What
        : $"the raw data of datasets {string.Join(", ", areas.Take(5).Select(a => a.Dataset))}{(areas.Count > 5 ? $" and {areas.Count - 5} more" : "")} (paths.raw)";

    /// <summary>KDG1038: no Needs can name another dataset's stage, so its outputs are never part of this stage's fingerprint.</summary>
    private static KdgException OtherDataset(StageInstance inst, string what, string path, string area, DatasetAreas.Area other, (int Line, int Column) at) => new(ErrorCodes.CrossDatasetRead,
        $"stage '{inst.Name}'{(inst.Sweep.IsEmpty ? "" : $" ({inst.Variant})")} of dataset '{inst.Dataset}' reads the outputs of dataset '{other.Dataset}': its {what} names '{PathText.ToStored(inst.Layout.Root, path)}', " +
        $"{(PathText.IsUnder(path, area) ? "in" : "above")} {other.What} ('{PathText.ToStored(inst.Layout.Root, area)}'). A stage may only read its own dataset's stage outputs (Needs names stages of the same dataset), " +
        $"so a change there would leave '{inst.Name}' wrongly up to date. Compare datasets with -t:Compare or -t:Report, or move the step that reads several datasets out of the pipeline (a script run after the build); " +
        $"data every dataset shares belongs outside paths.runs and the cache dirs, declared in the stage's inputs.",
        inst.Layout.Config.File, at.Line, at.Column);

    /// <summary>KDG1039: data the command names (<paramref name="where"/>: in raw data, above raw dirs, in a cache dir) that no input covers and no stage writes: its changes would go unnoticed. The fix names <paramref name="folder"/> (or the placeholder for it).</summary>
    private static KdgException Untracked(StageInstance inst, string what, string path, string folder, string where, string? placeholder)
    {
        var entry = placeholder ?? PathText.ToStored(inst.Layout.Root, folder);
        // An input glob that nearly covers a folder the command is handed ('{raw_dir}/*.csv' for '--raw {raw_dir}'): why it does not.
        var globs = !Hashing.Glob.HasWildcard(path) && inst.Inputs.Any(Hashing.Glob.HasWildcard)
            ? " A glob input covers a folder the command names only when it matches every file below it, at any depth ('.../**'): the program may read any of them."
            : "";
        return new(ErrorCodes.UndeclaredRawData,
            $"stage '{inst.Name}'{(inst.Sweep.IsEmpty ? "" : $" ({inst.Variant})")} (dataset {inst.Dataset}): {(what == "setup" ? "a line of its setup" : "its command")} names '{PathText.ToStored(inst.Layout.Root, path)}', {where}, but none of its inputs covers it, " +
            $"so a change of that data would leave '{inst.Name}' wrongly up to date. Add inputs: ['{entry}'] to stage '{inst.Name}' in {Path.GetFileName(inst.Layout.Config.File)} (beside any inputs it has), so its content is part of the stage's fingerprint." + globs,
            inst.Layout.Config.File, inst.Config.Line, inst.Config.Column);
    }

    /// <summary>
    /// Declared inputs and command words as the system opens them: the textual check sees a path, and a symbolic link
    /// on it (data/vl -> ../experimentruns/d/vgae) named another stage's output without KDG1011, and
    /// the stage stayed up to date when that output changed (a review). Each declared input (and such a word) is also
    /// checked where it leads, spelled back under the runs folder's and the dataset's cache dir's own
    /// names when it lands in their resolved places (a cluster's runs often link to scratch space), so
    /// owners and dataset areas are known by one name each. Links are followed below
    /// the pipeline root by readlink(2), each observed (a no-op certificate then sees a link
    /// retargeted); the root and what lies outside it are taken as realpath(3) gives them. Links
    /// deeper inside a run dir are not followed.
    /// </summary>
    private sealed class RealPaths
    {
        private readonly string _root;
        private readonly string _runs;
        /// <summary>The root's resolved path, to the root as the pipeline names it (none when they are the same).</summary>
        private readonly (string From, string To)[] _rootSpelling;
        private readonly Dictionary<string, string> _folders = new(StringComparer.Ordinal);
        private readonly Dictionary<string, string> _declared = new(StringComparer.Ordinal);
        /// <summary>
        /// The resolved runs folder and cache dir, to their names in the pipeline: a path that lands there
        /// is spelled by those names (owners and dataset areas are known by them; registering owners under
        /// the resolved ones too made a word naming the scratch folder above the runs a read of every stage: a review).
        /// </summary>
        private readonly (string From, string To)[] _ownedSpelling;

        public RealPaths(PipelineLayout layout, StageInstance any)
        {
            _root = PathMap<Owners>.Normalize(layout.Root);
            _runs = PathMap<Owners>.Normalize(layout.RunsRoot);
            var realRoot = PathText.RealPath(_root) ?? _root;
            _rootSpelling = realRoot == _root ? [] : [(realRoot, _root)];
            _ownedSpelling = new[] { layout.RunsRoot, any.CacheDir }
                .Select(p => (From: Resolve(PathMap<Owners>.Normalize(p), 0), To: PathMap<Owners>.Normalize(p)))
                .Where(p => p.From != p.To).ToArray();
        }

        /// <summary>
        /// The paths, and after each that leads elsewhere (a link on its way, or a resolved spelling of the runs
        /// folder), where it leads: every declared input, and each word of the command and the setup below the root
        /// that no stage's run dir or output holds (`cat {root}/data/vl/model.ckpt` with data/vl a link into another
        /// stage's run dir read that model unfingerprinted: a review). Where a word leads is checked for the owners
        /// and other datasets only; raw data it reaches there is judged by the word as written, which the inputs spell.
        /// </summary>
        public IEnumerable<(string What, string Path, bool Piece, bool Whole, bool Cut, bool Sure)> WithLinks(StageInstance inst, PathMap<Owners> owners)
        {
            foreach (var p in inst.ReferencedPaths())
            {
                yield return p;
                if (!Followed(inst, p, owners) || Leads(p.Path) is not { } to) continue;
                _declared.TryAdd(to, p.Path);
                yield return (p.What + Through, to, p.Piece, p.Whole, p.Cut, false);
            }
        }

        /// <summary>The mark of a path <see cref="WithLinks"/> followed, after what named it.</summary>
        public const string Through = " (through a symbolic link)";

        /// <summary>
        /// A declared input always; a word of the command or setup when it lies below the root outside the runs folder,
        /// every run dir and output (those are owned as named: a placeholder's own path, {run_dir}/x, {upstream.a}/m) and
        /// the stage's file and folder inputs (their content is fingerprinted, and each input is followed itself: {raw_dir}/frames.csv),
        /// so only words such as {root}/data/vl/model.ckpt pay a readlink.
        /// </summary>
        private bool Followed(StageInstance inst, (string What, string Path, bool Piece, bool Whole, bool Cut, bool Sure) p, PathMap<Owners> owners)
        {
            if (p.What == "inputs") return true;
            if (p.What is not ("command" or "setup") || p.Whole) return false;
            var at = PathMap<Owners>.Normalize(Hashing.Glob.HasWildcard(p.Path) ? Hashing.Glob.LiteralBase(p.Path) : p.Path);
            return at.Length > _root.Length && PathText.IsUnder(at, _root) && !PathText.IsUnder(at, _runs)
                && !owners.AtOrAbove(at).Any() && !inst.Inputs.Any(i => !Hashing.Glob.HasWildcard(i) && PathText.IsUnder(at, i));
        }

        /// <summary>The declared input or word a path <see cref="WithLinks"/> gave stands for (for the line of an error); the path itself otherwise.</summary>
        public string DeclaredAs(string path) => _declared.GetValueOrDefault(path, path);

        /// <summary>Where a declared input (a glob: from its literal part) leads; null when nowhere else.</summary>
        private string? Leads(string input)
        {
            var text = PathMap<Owners>.Normalize(input);
            var literal = PathMap<Owners>.Normalize(Hashing.Glob.HasWildcard(input) ? Hashing.Glob.LiteralBase(input) : input);
            var to = PathText.Respelled(Resolve(literal, 0), _ownedSpelling) + text[literal.Length..];
            return to == text ? null : to;
        }

        /// <summary>
        /// The path with the links below the root followed, also to what is not there yet (a link to an
        /// upstream's output dangles before its first run): the folder resolved (once per folder), then
        /// the name, followed if it is a link. At most 40 links deep, as the kernel.
        /// </summary>
        private string Resolve(string path, int depth)
        {
            if (path == _root) return _root;
            if (!PathText.IsUnder(path, _root) || depth > 40) return PathText.Respelled(PathText.RealPath(path) ?? path, _rootSpelling);
            var folder = Path.GetDirectoryName(path)!;
            if (!_folders.TryGetValue(folder, out var realFolder)) _folders[folder] = realFolder = Resolve(folder, depth + 1);
            var named = Path.Join(realFolder, Path.GetFileName(path));
            if (!PathText.IsUnder(named, _root)) return PathText.Respelled(PathText.RealPath(named) ?? named, _rootSpelling);
            return NoOp.FileObservations.ReadLink(named) is ['=', .. var target]
                ? Resolve(PathMap<Owners>.Normalize(Path.GetFullPath(target, realFolder)), depth + 1)
                : named;
        }
    }

    /// <summary>Who writes under a path: one instance, or every point of a swept stage (<see cref="Folder"/>: the folder above their run dirs).</summary>
    private sealed record Owners(StageInstance[] Points, bool Folder);

    private static KdgException Undeclared(StageInstance inst, IReadOnlyCollection<(StageInstance Owner, string What, string Path)> missing, RealPaths real)
    {
        var at = Place(inst, missing, real);
        string Stored(string path) => PathText.ToStored(inst.Layout.Root, path);
        var reads = string.Join("; ", missing.Select(m => (m.What.EndsWith(RealPaths.Through, StringComparison.Ordinal)
            ? $"its {m.What[..^RealPaths.Through.Length]} names '{Stored(real.DeclaredAs(m.Path))}', which a symbolic link on its way leads to '{Stored(m.Path)}'"
            : $"its {m.What} names '{Stored(m.Path)}'") + $", an output of {Describe(m.Owner)}"));
        var needed = inst.Upstreams.Select(u => u.Name).ToHashSet(StringComparer.Ordinal);
        var unneeded = missing.Select(m => m.Owner.Name).Where(n => n != inst.Name && !needed.Contains(n)).Distinct().Order(StringComparer.Ordinal).ToArray();
        var fix = unneeded.Length > 0
            ? $"Add {string.Join(", ", unneeded.Select(k => $"'{k}'"))} to the Needs of stage '{inst.Name}' in pipeline.proj (Needs=\"...;{string.Join(";", unneeded)}\"), and {TheirTargets(unneeded.Length)} to the DependsOnTargets of its target."
            : "";
        // Another point of a needed stage, or of its own: no Needs declares that.
        if (missing.Any(m => m.Owner.Name == inst.Name || needed.Contains(m.Owner.Name)))
            fix += (fix.Length > 0 ? " " : "") + $"An instance reads only the point of each stage it needs that has its own sweep values ({{upstream.NAME}}{(inst.Sweep.IsEmpty ? "" : $", here {inst.Variant}")}), " +
                   "not other points of that stage or of its own: name {upstream.NAME} instead of a path across points, and compare points with -t:Compare or -t:Report, not in a stage.";
        return new KdgException(ErrorCodes.UndeclaredDependency,
            $"stage '{inst.Name}'{(inst.Sweep.IsEmpty ? "" : $" ({inst.Variant})")} reads what another stage instance writes but does not depend on it ({reads}), so a change there would leave '{inst.Name}' wrongly up to date. " + fix,
            inst.Layout.Config.File, at.Line, at.Column);
    }

    /// <summary>Where the first of what is read is written: a declared input or output (its line in inputs:) before the setup and the command.</summary>
    private static (int Line, int Column) Place(StageInstance inst, IEnumerable<(StageInstance Owner, string What, string Path)> read, RealPaths real)
    {
        var first = read.OrderBy(m => m.What.StartsWith("inputs", StringComparison.Ordinal) || m.What == "outputs" ? 0 : m.What.StartsWith("setup", StringComparison.Ordinal) ? 1 : 2).First();
        return PlaceOf(inst, first.What, first.Path, real);
    }

    /// <summary>Where what names a path is written: its entry under inputs: or outputs: (through a link: the input that leads there), setup:, command:.</summary>
    private static (int Line, int Column) PlaceOf(StageInstance inst, string what, string path, RealPaths real) => what switch
    {
        "setup" or "setup" + RealPaths.Through when inst.Config.SetupAt.Line > 0 => inst.Config.SetupAt,
        "command" or "command" + RealPaths.Through when inst.Config.CommandAt.Line > 0 => inst.Config.CommandAt,
        _ => inst.PlaceOf(real.DeclaredAs(path)),
    };

    /// <summary>DependsOnTargets names targets, not stages: a stage named like a public target has a target of another name (MSBuild target names ignore case).</summary>
    internal static string TheirTargets(int count) =>
        (count == 1 ? "the target that declares that stage" : "the targets that declare them") + " (its name, where it differs from the stage's: preprocess_stage for 'preprocess' in the bundled pipeline.proj)";

    private static string Describe(StageInstance owner) =>
        owner.Sweep.IsEmpty ? $"stage '{owner.Name}'" : $"stage '{owner.Name}' ({owner.Variant})";

    /// <summary>Error for <c>{upstream.X}</c> where X is a stage but not one of the stage's Needs.</summary>
    public static KdgException NotNeeded(Config.StageConfig stage, string configFile, string upstream) => new(ErrorCodes.UndeclaredDependency,
        $"stage '{stage.Name}' uses {{upstream.{upstream}}} but '{upstream}' is not in its Needs, so a change of '{upstream}' would leave '{stage.Name}' wrongly up to date. " +
        $"Add '{upstream}' to the Needs of stage '{stage.Name}' in pipeline.proj, and {TheirTargets(1)} to the DependsOnTargets of its target.",
        configFile, stage.Line, stage.Column);
}
