using KdGat.Core.Diagnostics;
using KdGat.Core.Hashing;
using KdGat.Core.IO;
using KdGat.Core.Manifests;
using KdGat.Core.Pipeline;

namespace KdGat.Core.Planning;

/// <summary>
/// Computes what a stage instance's fingerprint is made of right now: resolved command,
/// parameters, declared inputs and code files by content, upstream output digests, and the
/// declared environment variables.
/// </summary>
internal sealed class Fingerprinter
{
    private readonly PathHasher _hasher;
    private readonly Func<string, string?> _env;

    public Fingerprinter(PathHasher hasher, Func<string, string?>? env = null)
    {
        _hasher = hasher;
        _env = env ?? NoOp.FileObservations.Variable;
    }

    public PathHasher Hasher => _hasher;

    /// <summary>This fingerprinter for the end of a stage's run: a cancel does not stop it, and it reads again a file whose hash was taken in the tick of its last change (<see cref="PathHasher.Rechecking"/>).</summary>
    public Fingerprinter Rechecking => new(_hasher.Rechecking, _env);

    /// <param name="upstreamDigests">Output digest of each upstream stage, by name.</param>
    /// <param name="pending">Upstreams whose jobs have not ended (a chained batch job): inputs declared under their outputs or run dirs are not hashed yet (<see cref="PendingInput"/>).</param>
    public FingerprintComponents Compute(StageInstance s, IReadOnlyDictionary<string, string> upstreamDigests, IReadOnlyCollection<StageInstance>? pending = null) =>
        AtEntry(s, () => ComputeAt(s, upstreamDigests, pending ?? []));

    private static T AtEntry<T>(StageInstance s, Func<T> hash)
    {
        try { return hash(); }
        catch (KdgException e) when (e.Code is ErrorCodes.NotRegularFile or ErrorCodes.SymlinkCycle)
        {
            // A FIFO, device or link cycle among what the stage declares: say which stage, at its entry.
            throw e.At(s.Layout.Config.File, s.Config.Line, s.Config.Column, $"{s.Key} (its inputs or code): ");
        }
        catch (UnauthorizedAccessException e)
        {
            // A file or folder this user may not read: named with the stage, at its entry (it was a bare
            // "Access to the path ... is denied" at the project, a review).
            throw new KdgException(ErrorCodes.FileAccess,
                $"{s.Key} (its inputs or code): {e.Message.TrimEnd('.')}: KdGat reads every file a stage declares to fingerprint it. Make it readable for this user (chmod, chown), or move it out of what the stage declares.",
                s.Layout.Config.File, s.Config.Line, s.Config.Column, e);
        }
    }

    /// <summary>The value of an input an upstream job still writes: known once that job has ended (<see cref="Settled"/>).</summary>
    public const string PendingInput = "<written by an upstream job>";

    /// <summary>
    /// Whether an upstream job writes what <paramref name="input"/> names: the input lies in its
    /// outputs or run dir, or holds them (a directory above its output, a glob whose walk starts
    /// above it). Such an input is hashed once that job has ended; hashed at submission, the job's
    /// writing would make every run look changed during the run (KDG3020). Its other files are
    /// still checked for edits during the run: <see cref="Snapshot"/> notes them at submission.
    /// </summary>
    private static bool WrittenBy(IReadOnlyCollection<StageInstance> upstreams, string input)
    {
        var literal = Glob.LiteralBase(input);
        return Writes(upstreams).Any(w => PathText.IsUnder(literal, w) || PathText.IsUnder(w, literal));
    }

    /// <summary>Where upstream stages write: each one's run dir and declared outputs.</summary>
    private static IEnumerable<string> Writes(IEnumerable<StageInstance> upstreams) => upstreams.SelectMany(u => u.Outputs.Prepend(u.RunDir));

    /// <summary>Whether an upstream's outputs or run dir lie below <paramref name="dir"/>: an empty directory there (its outputs moved aside when its job was submitted) fills when the job writes them.</summary>
    private static bool AboveUpstreamWrites(StageInstance s, string dir) => Writes(s.Upstreams).Any(w => PathText.IsUnder(w, dir));

    /// <summary>Whether an upstream writes <paramref name="file"/>: below its outputs (KDG3017's to check, and the output store relinks them) or its run dir.</summary>
    private static bool BelowUpstreamWrites(StageInstance s, string file) => Writes(s.Upstreams).Any(w => PathText.IsUnder(file, w));

    /// <summary>The value a run's manifest records for what changed while it ran: no fingerprint computed from files has it, so the next build runs the stage again.</summary>
    public const string ChangedDuringRun = "<changed while the stage ran>";

    /// <summary>
    /// What of <paramref name="used"/>, the components its fingerprint was taken with, is no longer so
    /// now that a run has ended: a declared input or code file, or the tools its command runs (another
    /// build's bootstrap may replace them), changed meanwhile (while it ran, waited to start or to be
    /// collected), so it may have read either version. Null when nothing did. Else <c>Marked</c> is
    /// <paramref name="used"/> with each changed value replaced by <see cref="ChangedDuringRun"/>:
    /// recorded with that, the result is never taken as up to date (neither for the old content nor
    /// for the new), and the next build says which file changed. Content is compared, and the files'
    /// identities against <paramref name="seen"/>, so an edit undone before the run ended counts too.
    /// Inputs below an upstream's outputs are KDG3017's, checked before; parameters and variables do
    /// not change while a build runs.
    /// </summary>
    /// <param name="seen">
    /// What <see cref="Snapshot"/> saw before the run started: a file rewritten since counts even when
    /// its content is back (an edit undone, a branch checked out and back while a job ran).
    /// </param>
    public (string What, FingerprintComponents Marked)? ChangedSince(StageInstance s, FingerprintComponents used, IReadOnlyDictionary<string, string> seen)
    {
        var root = s.Layout.Root;
        var inputs = new SortedDictionary<string, string>(used.Inputs, StringComparer.Ordinal);
        var code = new SortedDictionary<string, string>(used.Code, StringComparer.Ordinal);
        var changed = new List<string>();
        foreach (var input in CheckedInputs(s, used))
        {
            var key = PathText.ToStored(root, input);
            if (Now(() => _hasher.HashInput(input)?.Hash) == used.Inputs[key]) continue;
            inputs[key] = ChangedDuringRun;
            changed.Add($"input {key}");
        }
        var codeNow = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var file in CodeFilesNow(s))
            codeNow[PathText.ToStored(root, file)] = Now(() => _hasher.Hash(file)?.Hash) ?? "missing";
        foreach (var key in used.Code.Keys.Union(codeNow.Keys).Where(k => used.Code.GetValueOrDefault(k) != codeNow.GetValueOrDefault(k)).ToArray())
        {
            code[key] = ChangedDuringRun;
            changed.Add($"code file {key}");
        }
        var ctimeOnly = false;
        var now = Snapshot(s, used); // once: inputs, code and tools are taken again from it
        foreach (var (key, isCode, ctime) in Rewritten(seen, now))
        {
            var values = isCode ? code : inputs;
            if (values.GetValueOrDefault(key) is null or ChangedDuringRun) continue; // not in the fingerprint, or said already (its content)
            values[key] = ChangedDuringRun;
            changed.Add($"{(isCode ? "code file" : "input")} {key} ({(ctime ? "only its ctime" : "rewritten")})");
            ctimeOnly |= ctime;
        }
        var command = Execution.StageSetup.Prefix(s.Config.Setup, s.RenderCommandForFingerprint(toolsNow: true));
        var marked = used with { Inputs = inputs, Code = code };
        // Its content back as it was is not enough: tools rebuilt from an edit and again from the edit undone
        // while a job waited ran the edited program (a review: collected as current, and cached).
        if (command != used.Command || seen.TryGetValue(ToolsKind, out var toolsSeen) && Compare(toolsSeen, now.GetValueOrDefault(ToolsKind)).Changed)
        {
            marked = marked with { Command = used.Command + " " + ChangedDuringRun };
            changed.Add("the program its command runs from KdGat's tools folder ({tools}; another build's bootstrap may have rebuilt it)");
        }
        return changed.Count == 0 ? null : (string.Join(", ", changed.Take(3)) + (changed.Count > 3 ? $" and {changed.Count - 3} more" : "") + (ctimeOnly ? CtimeOnlySaid : ""), marked);
    }

    /// <summary>What a change of ctime alone may be, and what to do when it is not an edit.</summary>
    private const string CtimeOnlySaid = " (a change of ctime alone, counted with trust_ctime: true: an edit undone with its old mtime put back, cp -p over the file, leaves only that; " +
        "so do a chmod or chown, even one that changes nothing, a hard link made or removed, and a backup tool that puts access times back: if the stage's own command or setup, " +
        "or a job on this machine, does that to its inputs or code, remove trust_ctime from kdgat.yaml, or this stage runs again at every build)";

    /// <summary>
    /// Before a run starts (or its job is submitted): the size, mtime, inode and x bit of every file its
    /// declared inputs and code patterns match (and an input's empty directories and dangling links,
    /// which its digest holds too), as one digest per input and per code file ("input\tKEY",
    /// "code\tKEY"), for <see cref="ChangedSince"/> to take again when it ends; small enough for a
    /// batch job's journal. Files an upstream writes are left out: below its outputs (KDG3017's: the
    /// output store links and unlinks those) or its run dir; an input that holds them (a directory
    /// above an upstream job's output, hashed only when that job has ended) is noted for the rest of
    /// its files, which nothing but an edit changes during the run. A change of ctime alone counts only
    /// with trust_ctime: true: a writer that puts the old mtime back on the same inode (cp -p over the
    /// file) leaves nothing else (a review), but so do chmod, chown and hard links (a permissions cron
    /// job, a stage's own `chmod +x`, a job collected the morning after such a job ran: every build would
    /// rerun it; a second review). A new device number does not count (an automounted NFS share
    /// mounted again during a long job).
    /// </summary>
    public IReadOnlyDictionary<string, string> Snapshot(StageInstance s, FingerprintComponents used)
    {
        var root = s.Layout.Root;
        var seen = new SortedDictionary<string, string>(StringComparer.Ordinal);
        using var _ = NoOp.FileObservations.Pause(); // a check of this run, not part of any decision a certificate replays
        // Inputs an upstream job still writes too (a directory above its output): their other files can be edited meanwhile.
        foreach (var input in s.Inputs.Where(i => used.Inputs.ContainsKey(PathText.ToStored(root, i)) && !BelowUpstreamOutputs(s, i)))
            seen[InputKind + PathText.ToStored(root, input)] = Identities(s, Now(() => Entries(input, PathHasher.IsBytecodeCache)) ?? []);
        foreach (var file in CodeFilesNow(s))
            seen[CodeKind + PathText.ToStored(root, file)] = Identities(s, [Entry(file)]);
        // The tools folder, when the command runs from it ({tools} in the fingerprint's command), by identity as the rest.
        if (used.Command.Contains(Pipeline.PipelineLayout.ToolsInCommand, StringComparison.Ordinal)) seen[ToolsKind] = ToolsIdentities(s);
        return seen;
    }

    /// <summary>
    /// The identities of the tools files the command runs (a rebuild writes them anew, whatever their bytes):
    /// the program's closure, as its fingerprint has it; the whole folder for a bare {tools}. Not every
    /// file of the folder: a rebuild that left the program's bytes alone would rerun it (a review).
    /// </summary>
    private static string ToolsIdentities(StageInstance s)
    {
        var dir = Path.TrimEndingDirectorySeparator(s.Layout.ToolsDir); // -p:KdGatToolsDir ends in '/': walked as it was, it saw no file
        return Identities(s, Now(() => s.ToolFiles() is { } files ? files.Select(Entry).ToArray()
            : PathStat.Of(dir).Kind == PathKind.Directory ? PathHasher.Walk(dir) : null) ?? []);
    }

    /// <summary>
    /// KDG1013 for each <c>code</c> pattern of <paramref name="instances"/>' stages that matches no
    /// file: their fingerprints then hold no code of it, so a misspelt folder would let no edit of the
    /// real code rerun a stage. A warning, not an error: a pattern may rightly match nothing in this
    /// checkout (a sandbox without the sources, <c>pipeline/**/*.py</c> before there is any). One per
    /// pattern where it is written (a defaults.code pattern once, not once per stage, dataset or
    /// point), in the order written. A pure function of the configuration and of what the globs' walks
    /// ask the file system (observed like the fingerprint's own walks), so a no-op certificate
    /// replays it. A pattern that cannot be walked (a FIFO, a link cycle) is not said here: the
    /// fingerprint reports it at the stage's entry.
    /// </summary>
    public static IReadOnlyList<Diagnostic> CodePatternsMatchingNothing(IEnumerable<StageInstance> instances)
    {
        var stages = instances.DistinctBy(s => s.Name, StringComparer.Ordinal).ToArray();
        var users = new Dictionary<(string Pattern, int Line, int Column), List<StageInstance>>();
        foreach (var s in stages)
            foreach (var pattern in s.Config.Code)
            {
                var (line, column) = s.Config.CodeAt.GetValueOrDefault(pattern, (s.Config.Line, s.Config.Column));
                if (!users.TryGetValue((pattern, line, column), out var list)) users[(pattern, line, column)] = list = [];
                list.Add(s);
            }
        var warnings = new List<Diagnostic>();
        foreach (var ((pattern, line, column), using_) in users.OrderBy(u => u.Key.Line).ThenBy(u => u.Key.Column).ThenBy(u => u.Key.Pattern, StringComparer.Ordinal))
        {
            var s = using_[0];
            // Null (the walk failed) is the fingerprint's to report; only a walk that found nothing warns.
            if (Now(() => Glob.Expand(s.Layout.Root, pattern, s.Layout.WrittenFolders)) is not { Count: 0 }) continue;
            var names = using_.Select(u => u.Name).Order(StringComparer.Ordinal).ToArray();
            var who = names.Length == stages.Length && names.Length > 1 ? "every stage built" : names.Length == 1 ? $"stage '{names[0]}'" : $"stages {string.Join(", ", names.Select(n => $"'{n}'"))}";
            var plural = names.Length > 1;
            warnings.Add(new Diagnostic(Severity.Warning, ErrorCodes.CodePatternMatchesNothing,
                $"code pattern '{pattern}' matches no file (paths are relative to the pipeline root, {s.Layout.Root}), so {who} {(plural && names.Length < stages.Length ? "are" : "is")} fingerprinted without any code of it: no edit of that code would rerun {(plural ? "them" : "it")}. " +
                "Fix the pattern if a folder or extension is misspelt, or remove it if that code is not in this checkout.",
                s.Layout.Config.File, line, column));
        }
        return warnings;
    }

    /// <summary>The files the code patterns match now (a pattern that cannot be expanded any more matches none: its files then differ from what was hashed).</summary>
    private static IEnumerable<string> CodeFilesNow(StageInstance s) => s.Config.Code.SelectMany(pattern => Now(() => Glob.Expand(s.Layout.Root, pattern, s.Layout.WrittenFolders)) ?? []);

    private const string InputKind = "input\t", CodeKind = "code\t", ToolsKind = "tools\t";

    /// <summary>A snapshot entry's identities of no files (an input not there, or holding only what upstreams write), before any ctimes.</summary>
    private static readonly string NothingSeen = ContentHash.OfText("");

    /// <summary>
    /// What an input's or output's digest is made of, as <see cref="PathHasher"/> walks it: its regular files
    /// (with their x bit), and of a directory or glob also its empty directories and dangling links.
    /// </summary>
    /// <param name="skip">Folders the digest leaves out: an input's <see cref="PathHasher.IsBytecodeCache"/>; none of an output.</param>
    private static IReadOnlyList<PathHasher.WalkEntry> Entries(string input, Func<string, bool>? skip = null)
    {
        if (Glob.HasWildcard(input)) return Glob.ExpandEntries("/", input, withDangling: true);
        return PathStat.Of(input) switch
        {
            { Kind: PathKind.Directory } => PathHasher.Walk(input, skip),
            { Kind: PathKind.Missing } => [],
            _ => [Entry(input)],
        };
    }

    private static PathHasher.WalkEntry Entry(string file)
    {
        try { var stat = PathStat.Of(file); return new(file, stat.Kind, stat.Executable, Identity: stat.Identity); }
        catch (KdgException) { return new(file, PathKind.Missing); } // a name too long to look at now: not what was hashed
    }

    /// <summary>
    /// The entries' identities as one digest, each named as a manifest names it (relative to the root
    /// inside it: the build collecting a job may reach the clone by another path): a file by size,
    /// mtime, inode and x bit (the x bit is in its hash: a chmod during a run is a change), an empty
    /// directory or dangling link as such (they are in a directory's digest too); with trust_ctime, a
    /// digest of the files' ctimes after <see cref="CtimesAfter"/>, told apart so that a change of
    /// ctime alone is said as such.
    /// </summary>
    private static string Identities(StageInstance s, IEnumerable<PathHasher.WalkEntry> entries, bool withCtimes = true)
    {
        var lines = new List<string>();
        var ctimeLines = new List<string>();
        foreach (var f in entries.Where(e => !BelowUpstreamWrites(s, e.Path) && !(e.Kind == PathKind.Directory && AboveUpstreamWrites(s, e.Path)))
                     .Select(e => (Entry: e, Name: PathText.ToStored(s.Layout.Root, e.Path))).OrderBy(f => f.Name, StringComparer.Ordinal))
        {
            // The walk's own statx where it had one: a second per file doubled the cost of noting a large cache dir.
            var id = f.Entry.Kind == PathKind.File ? f.Entry.Identity ?? FileIdentity.Of(f.Entry.Path) : null;
            lines.Add(f.Entry.Kind switch
            {
                PathKind.File => id is { } i ? $"{f.Name}\t{i.Size}\t{i.MtimeNs}\t{i.Inode}\t{(f.Entry.Executable ? "x" : "-")}" : f.Name + "\t-",
                PathKind.Directory => f.Name + "\tempty directory",
                PathKind.Missing => f.Name + "\t-> " + f.Entry.LinkTarget,
                _ => f.Name + "\tnot a regular file",
            });
            if (id is { } c) ctimeLines.Add($"{f.Name}\t{c.CtimeNs}");
        }
        var identity = ContentHash.OfText(string.Join('\n', lines));
        return s.Layout.Config.TrustCtime && withCtimes ? identity + CtimesAfter + ContentHash.OfText(string.Join('\n', ctimeLines)) : identity;
    }

    /// <summary>
    /// An upstream's outputs by identity as they are now (as <see cref="Snapshot"/> notes inputs), for a
    /// downstream's run to compare when it ends (<see cref="OutputsRewritten"/>): rewritten meanwhile by something
    /// that is not an attempt of KdGat's (a copy by hand, another program), even with the content put back before
    /// the end, the downstream may have read other bytes than the digest its fingerprint records (a review). With
    /// their ctimes, which nothing can set back (`cp -p` of a backup over an output keeps size, mtime and inode;
    /// a review), and their link counts after them: the output store's hard links (another clone restoring the
    /// same entry, CacheGc evicting it) change a ctime and a count together.
    /// </summary>
    public static string OutputIdentities(StageInstance upstream)
    {
        using var _ = NoOp.FileObservations.Pause(); // a check of a run, not part of any decision a certificate replays
        var entries = upstream.Outputs.SelectMany(o => Now(() => Entries(o)) ?? [new PathHasher.WalkEntry(o, PathKind.Other)]).ToArray();
        var ctimes = new List<string>();
        var links = new List<string>();
        foreach (var file in entries.Where(e => e.Kind == PathKind.File).Select(e => e.Path).Order(StringComparer.Ordinal))
        {
            var name = PathText.ToStored(upstream.Layout.Root, file);
            var (ctime, count) = FileIdentity.WithLinks(file) is { } id ? (id.Id.CtimeNs, id.Links) : (0, 0u);
            ctimes.Add($"{name}\t{ctime}");
            links.Add($"{name}\t{count}");
        }
        return Identities(upstream, entries, withCtimes: false) + CtimesAfter + ContentHash.OfText(string.Join('\n', ctimes)) + CtimesAfter + ContentHash.OfText(string.Join('\n', links));
    }

    /// <summary>
    /// Whether an upstream's outputs were rewritten since <see cref="OutputIdentities"/> gave <paramref name="was"/>: another
    /// size, mtime, inode or x bit, file added or gone; or another ctime where no link count changed. A change of link count
    /// is the output store's (or a user's `ln`), and hides an edit made in the same run only when it came with one.
    /// Noted without ctimes (a batch job's journal from an older KdGat): by the rest. The ctimes count only with
    /// <paramref name="trustCtime"/> (kdgat.yaml's trust_ctime, as for the stage's own inputs): a chmod or chown, a
    /// permissions cron job, changes them too, and would discard a long run each time.
    /// </summary>
    public static bool OutputsRewritten(string was, string now, bool trustCtime)
    {
        if (was == now) return false;
        var (w, n) = (was.Split(CtimesAfter), now.Split(CtimesAfter));
        if (w[0] != n[0]) return true;
        return trustCtime && w.Length == 3 && n.Length == 3 && w[1] != n[1] && w[2] == n[2];
    }

    /// <summary>Between a snapshot entry's identities and its ctimes (a snapshot a journal kept from before trust_ctime has none).</summary>
    private const char CtimesAfter = ' ';

    /// <summary>How a snapshot entry differs now: not at all; in ctimes alone (trust_ctime then and now); or otherwise.</summary>
    private static (bool Changed, bool CtimeOnly) Compare(string was, string? now)
    {
        if (now == was) return (false, false);
        if (now is null) return (true, false);
        var wasParts = was.Split(CtimesAfter);
        var nowParts = now.Split(CtimesAfter);
        if (wasParts[0] != nowParts[0]) return (true, false);
        return wasParts.Length == 2 && nowParts.Length == 2 ? (true, true) : (false, false); // without ctimes on one side: trust_ctime set since
    }

    /// <summary>The declared inputs <see cref="ChangedSince"/> checks: hashed when the fingerprint was taken, not below an upstream's outputs.</summary>
    private static IEnumerable<string> CheckedInputs(StageInstance s, FingerprintComponents used) =>
        s.Inputs.Where(input => used.Inputs.TryGetValue(PathText.ToStored(s.Layout.Root, input), out var was) && was != PendingInput && !BelowUpstreamOutputs(s, input));

    private static bool BelowUpstreamOutputs(StageInstance s, string path) => s.Upstreams.Any(u => u.Outputs.Any(o => PathText.IsUnder(path, o)));

    /// <summary>The inputs and code files of a snapshot with a file written since (another size, mtime or inode, added or gone; or with trust_ctime another ctime), by key.</summary>
    private static IEnumerable<(string Key, bool IsCode, bool CtimeOnly)> Rewritten(IReadOnlyDictionary<string, string> seen, IReadOnlyDictionary<string, string> now)
    {
        // Only what Snapshot notes (the engine adds its own kinds: the upstreams' marks).
        return seen.Where(e => e.Key.StartsWith(InputKind, StringComparison.Ordinal) || e.Key.StartsWith(CodeKind, StringComparison.Ordinal))
            .Select(e => (e.Key, Diff: Compare(e.Value, now.GetValueOrDefault(e.Key)))).Where(e => e.Diff.Changed)
            .Select(e => e.Key.StartsWith(CodeKind, StringComparison.Ordinal) ? (e.Key[CodeKind.Length..], true, e.Diff.CtimeOnly) : (e.Key[InputKind.Length..], false, e.Diff.CtimeOnly)).ToArray();
    }

    /// <summary>A hash or listing as it is now; null when it cannot be had any more (deleted, unreadable, a FIFO now): that differs from what was hashed.</summary>
    private static T? Now<T>(Func<T?> hash) where T : class
    {
        try { return hash(); }
        // A large directory's parallel hash throws its file's own error, not an AggregateException (PathHasher).
        catch (Exception e) when (e is KdgException or IOException or UnauthorizedAccessException) { return null; }
    }

    /// <summary>A declared input's hash; a missing one is KDG3006 at its entry under the stage's inputs:.</summary>
    private string HashDeclared(StageInstance s, string input) =>
        _hasher.HashInput(input)?.Hash ?? throw new KdgException(ErrorCodes.InputMissing,
            $"{s.Key}: declared input '{PathText.ToStored(s.Layout.Root, input)}' {(Glob.HasWildcard(input) ? "matches no file" : "does not exist")}. Create it, or fix 'inputs' of stage '{s.Name}'.",
            s.Layout.Config.File, s.PlaceOf(input).Line, s.PlaceOf(input).Column);

    private FingerprintComponents ComputeAt(StageInstance s, IReadOnlyDictionary<string, string> upstreamDigests, IReadOnlyCollection<StageInstance> pending)
    {
        var root = s.Layout.Root;
        var inputs = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var input in s.Inputs)
            inputs[PathText.ToStored(root, input)] = pending.Count > 0 && WrittenBy(pending, input) ? PendingInput : HashDeclared(s, input);
        var code = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var pattern in s.Config.Code)
            foreach (var file in Glob.Expand(root, pattern, s.Layout.WrittenFolders))
                code[PathText.ToStored(root, file)] = _hasher.Hash(file)?.Hash ?? "missing";
        var env = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var name in s.Config.Env)
            env[name] = _env(name) is { } v ? ContentHash.OfText(v) : "<unset>";
        return new FingerprintComponents
        {
            Command = Execution.StageSetup.Prefix(s.Config.Setup, s.RenderCommandForFingerprint()), // setup lines are part of what runs
            Params = new SortedDictionary<string, string>(s.Config.Params.ToDictionary(p => p.Key, p => p.Value.FingerprintText), StringComparer.Ordinal), // the kind too where params.json tells it
            Inputs = inputs,
            Code = code,
            Upstream = Upstreams(s, upstreamDigests),
            Env = env,
        };
    }

    /// <summary>
    /// A chained batch job's fingerprint once its upstream jobs have ended: the components as
    /// hashed when it was submitted (all it could have read; hashed again after it ran, a file
    /// edited meanwhile would be recorded as the version the job used), with the upstream digests
    /// filled in and the inputs those upstream jobs wrote (<see cref="PendingInput"/>) hashed now.
    /// </summary>
    /// <param name="seen">The <see cref="Snapshot"/> taken at submission: whether an input that holds what an upstream writes had other files then.</param>
    public FingerprintComponents Settled(FingerprintComponents submitted, StageInstance s, IReadOnlyDictionary<string, string> upstreamDigests, IReadOnlyDictionary<string, string>? seen = null)
    {
        var inputs = new SortedDictionary<string, string>(submitted.Inputs, StringComparer.Ordinal);
        // Only those: an ordinary input deleted while the job ran is KDG3020's to report when the run is checked, not a KDG3006 here.
        // So is one that holds what an upstream writes (a directory above its output) and is gone now, if it had other files at
        // submission: they were deleted meanwhile. Missing now otherwise (inside what an upstream writes, or a glob that only
        // upstream files could match), the upstream did not write it: KDG3006.
        foreach (var input in s.Inputs)
        {
            var key = PathText.ToStored(s.Layout.Root, input);
            if (submitted.Inputs.GetValueOrDefault(key) != PendingInput) continue;
            var hadOwnFiles = !BelowUpstreamWrites(s, input) && seen?.GetValueOrDefault(InputKind + key) is { } was && was.Split(CtimesAfter)[0] != NothingSeen;
            inputs[key] = hadOwnFiles
                ? Now(() => _hasher.HashInput(input)?.Hash) ?? ChangedDuringRun
                : AtEntry(s, () => HashDeclared(s, input));
        }
        return submitted with { Upstream = Upstreams(s, upstreamDigests), Inputs = inputs };
    }

    private static SortedDictionary<string, string> Upstreams(StageInstance s, IReadOnlyDictionary<string, string> upstreamDigests) =>
        new(s.Upstreams.ToDictionary(u => u.Name, u => upstreamDigests[u.Name]), StringComparer.Ordinal);

    /// <summary>
    /// Hashes the declared outputs as they are on disk; missing required ones are listed separately,
    /// absent optional ones are simply not in either list.
    /// </summary>
    public (List<OutputRecord> Present, List<string> Missing) HashOutputs(StageInstance s)
    {
        var present = new List<OutputRecord>();
        var missing = new List<string>();
        for (var i = 0; i < s.Outputs.Count; i++)
        {
            var stored = PathText.ToStored(s.Layout.Root, s.Outputs[i]);
            var h = _hasher.Hash(s.Outputs[i]);
            if (h is null) { if (!s.IsOptional(i)) missing.Add(stored); }
            else present.Add(new OutputRecord(stored, h.Hash, h.Size, h.IsDirectory) { Optional = s.IsOptional(i), Within = Within(s, s.Outputs[i]) });
        }
        return (present, missing);
    }

    /// <summary>
    /// An output's path within its run dir, or else its dataset's cache dir, or else the pipeline root, where that is
    /// more than its file name; null where it is just that (the digest of such an output is as before).
    /// </summary>
    internal static string? Within(StageInstance s, string output)
    {
        var path = output.TrimEnd('/');
        var within = new[] { s.RunDir, s.CacheDir, s.Layout.Root }.Select(b => b.TrimEnd('/'))
            .Where(b => PathText.IsUnder(path, b) && path.Length > b.Length).Select(b => path[(b.Length + 1)..]).FirstOrDefault() ?? path;
        return within == Path.GetFileName(path) ? null : within;
    }

    /// <summary>
    /// Required outputs are keyed by position and where they lie within the run dir (<see cref="OutputRecord.Key"/>:
    /// digests stay the same wherever the run dir is, but an output renamed or moved to another subfolder with the same
    /// bytes changes it: a downstream opens it by name; keyed by file name alone, best/m.txt and last/m.txt swapped
    /// in the outputs list with their contents left the downstream up to date: a review);
    /// optional ones by path, so an optional output replaced by another with the same content still
    /// changes the digest and reruns the downstream. The run dir's params.json counts too.
    /// </summary>
    /// <param name="paramsFile">
    /// The hash of the run dir's params.json (<see cref="Manifests.StageManifest.ParamsFile"/>); null
    /// gives the digest of manifests written before 2026-12-04: by position only, without params.json.
    /// </param>
    public static string OutputsDigest(IEnumerable<OutputRecord> outputs, string? paramsFile) =>
        ContentHash.OfEntries(outputs.Select((o, i) => new KeyValuePair<string, string>(
            o.Optional ? "optional:" + o.Path
                : paramsFile is null ? i.ToString(System.Globalization.CultureInfo.InvariantCulture)
                : i.ToString(System.Globalization.CultureInfo.InvariantCulture) + ":" + o.Key, o.Hash))
            .Concat(paramsFile is null ? [] : [new KeyValuePair<string, string>("params.json", paramsFile)]));
}
