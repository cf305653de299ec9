using KdGat.Core.Diagnostics;
using KdGat.Core.Hashing;
using KdGat.Core.Pipeline;
using KdGat.Core.Planning;
using KdGat.Core.Tests.Support;

namespace KdGat.Core.Tests.Planning;

/// <summary>
/// A batch job chained on its upstreams' jobs is fingerprinted when it is submitted and settled
/// when they have ended: inputs and code as they were at submission, except the inputs an upstream
/// job writes, which do not exist until then.
/// </summary>
[Trait("Category", "Unit")]
public sealed class ChainedFingerprintTests : IDisposable
{
    private readonly TestPipeline _p = new("""
        datasets: [d1]
        paths: { runs: runs, raw: 'raw/{dataset}', cache: 'cache/{dataset}' }
        stages:
          prep: { command: x, outputs: ['{cache_dir}'] }
          fit: { command: 'fit {cache_dir}', inputs: ['{cache_dir}', 'extra.txt'], outputs: [m] }
        """);
    public void Dispose() => _p.Dispose();

    [Fact]
    public void AnInputAnUpstreamJobWrites_IsHashedWhenSettled_OtherInputsKeepTheirHashFromSubmission()
    {
        var instances = _p.Instances([new StageDeclaration("prep", []), new StageDeclaration("fit", ["prep"])]);
        var (prep, fit) = (instances[0], instances[1]);
        _p.Dir.Write("extra.txt", "v1");
        var fp = new Fingerprinter(new PathHasher(new HashCache()));

        var submitted = fp.Compute(fit, new Dictionary<string, string> { ["prep"] = "job:1" }, pending: [prep]); // cache/d1 does not exist yet

        Assert.Equal(Fingerprinter.PendingInput, submitted.Inputs["cache/d1"]);
        _p.Dir.Write("cache/d1/graphs.bin", "g"); // the upstream job wrote it
        _p.Dir.Write("extra.txt", "v2"); // edited while the job ran
        var settled = fp.Settled(submitted, fit, new Dictionary<string, string> { ["prep"] = "digest" });

        Assert.Equal(fp.Compute(fit, new Dictionary<string, string> { ["prep"] = "digest" }).Inputs["cache/d1"], settled.Inputs["cache/d1"]);
        Assert.Equal(submitted.Inputs["extra.txt"], settled.Inputs["extra.txt"]);
        Assert.Equal("digest", settled.Upstream["prep"]);
    }

    [Fact]
    public void AnOrdinaryInputDeletedWhileTheJobRan_DoesNotFailTheSettle_ItKeepsItsHashFromSubmission()
    {
        var instances = _p.Instances([new StageDeclaration("prep", []), new StageDeclaration("fit", ["prep"])]);
        var (prep, fit) = (instances[0], instances[1]);
        _p.Dir.Write("extra.txt", "v1");
        var fp = new Fingerprinter(new PathHasher(new HashCache()));
        var submitted = fp.Compute(fit, new Dictionary<string, string> { ["prep"] = "job:1" }, pending: [prep]);

        _p.Dir.Write("cache/d1/graphs.bin", "g");
        File.Delete(_p.Dir["extra.txt"]); // gone while the job ran: the end-of-run check (KDG3020) says so, not a KDG3006 here
        var settled = fp.Settled(submitted, fit, new Dictionary<string, string> { ["prep"] = "digest" });

        Assert.Equal(submitted.Inputs["extra.txt"], settled.Inputs["extra.txt"]);
        Assert.NotEqual(Fingerprinter.PendingInput, settled.Inputs["cache/d1"]);
    }

    /// <summary>
    /// prep (writing <paramref name="prepOutput"/>) and fit (reading <paramref name="fitInput"/>), fit's
    /// job chained on prep's: fit fingerprinted and its inputs noted at submission, after
    /// <paramref name="before"/> laid out the files as they are then.
    /// </summary>
    private static Submission Submit(string prepOutput, string fitInput, Action<TestPipeline, StageInstance>? before = null)
    {
        var p = new TestPipeline($$"""
            datasets: [d1]
            paths: { runs: runs, raw: 'raw/{dataset}', cache: 'cache/{dataset}' }
            stages:
              prep: { command: x, outputs: [{{prepOutput}}] }
              fit: { command: 'fit', inputs: ['{{fitInput}}'], outputs: [m] }
            """);
        var instances = p.Instances([new StageDeclaration("prep", []), new StageDeclaration("fit", ["prep"])]);
        before?.Invoke(p, instances[0]);
        var fp = new Fingerprinter(new PathHasher(new HashCache()));
        var submitted = fp.Compute(instances[1], new Dictionary<string, string> { ["prep"] = "job:1" }, pending: [instances[0]]);
        return new Submission(p, instances[0], instances[1], fp, submitted, fp.Snapshot(instances[1], submitted));
    }

    private sealed record Submission(TestPipeline P, StageInstance Prep, StageInstance Fit, Fingerprinter Fp, FingerprintComponents Submitted, IReadOnlyDictionary<string, string> Seen) : IDisposable
    {
        /// <summary>Once prep's job has ended.</summary>
        public FingerprintComponents Settle() => Fp.Settled(Submitted, Fit, new Dictionary<string, string> { ["prep"] = "digest" }, Seen);

        public (string What, FingerprintComponents Marked)? ChangedSince(FingerprintComponents settled) => Fp.ChangedSince(Fit, settled, Seen);

        public void Dispose() => P.Dispose();
    }

    /// <summary>
    /// An input that holds what an upstream job writes (cache/ above prep's cache/d1) is hashed when
    /// that job has ended: its writing is not an edit during the run. Its other files are noted at
    /// submission, so an edit of one during the job, even undone, still counts (found by review:
    /// without the note it was recorded as the version the job read).
    /// </summary>
    [Theory]
    [InlineData(null)]
    [InlineData("edit undone")]
    [InlineData("chmod")]         // the x bit is in the digest; size, mtime and inode stay (found by review)
    [InlineData("empty dir")]     // an empty directory is in the digest too (found by review)
    [InlineData("deleted")]       // gone at settle: KDG3020, not the KDG3006 d42ade5 removed (found by review)
    public void AnInputAboveAnUpstreamJobsOutput_IsHashedWhenSettled_AndItsOtherFilesAreChecked(string? editOtherFile)
    {
        using var j = Submit("'{cache_dir}'", "cache", (p, _) => { p.Dir.Write("cache/notes.txt", "v1"); p.Dir.Write("cache/d1/graphs.bin", "old"); });
        var dir = j.P.Dir;
        Assert.Equal(Fingerprinter.PendingInput, j.Submitted.Inputs["cache"]);

        File.Delete(dir["cache/d1/graphs.bin"]);
        dir.Write("cache/d1/graphs.bin", "new, written by the upstream job");
        switch (editOtherFile)
        {
            case "edit undone":
                File.WriteAllText(dir["cache/notes.txt"], "v2");
                File.WriteAllText(dir["cache/notes.txt"], "v1"); // undone before the job ended: same content, another mtime or inode
                File.SetLastWriteTimeUtc(dir["cache/notes.txt"], DateTime.UtcNow.AddMinutes(1));
                break;
            case "chmod": File.SetUnixFileMode(dir["cache/notes.txt"], File.GetUnixFileMode(dir["cache/notes.txt"]) | UnixFileMode.UserExecute); break;
            case "empty dir": Directory.CreateDirectory(dir["cache/new_dataset"]); break;
            case "deleted": Directory.Delete(dir["cache"], recursive: true); break;
        }
        var settled = j.Settle();
        var changed = j.ChangedSince(settled);

        if (editOtherFile is null or "edit undone")
            Assert.Equal(j.Fp.Compute(j.Fit, new Dictionary<string, string> { ["prep"] = "digest" }).Inputs["cache"], settled.Inputs["cache"]);
        if (editOtherFile is null) Assert.Null(changed);
        else Assert.StartsWith("input cache", changed?.What);
    }

    /// <summary>What an upstream job writes to its run dir (logs, params.json) is not an edit of an input that names that dir.</summary>
    [Fact]
    public void AnInputInAnUpstreamJobsRunDir_IsNotChangedByWhatTheJobWritesThere()
    {
        using var j = Submit("'{cache_dir}'", "runs/d1/prep", (_, prep) => { Directory.CreateDirectory(prep.RunDir); File.WriteAllText(Path.Combine(prep.RunDir, "log.txt"), "old"); });
        Assert.Equal(j.P.Dir["runs/d1/prep"], j.Prep.RunDir);

        File.Delete(Path.Combine(j.Prep.RunDir, "log.txt"));
        File.WriteAllText(Path.Combine(j.Prep.RunDir, "log.txt"), "the job's log");

        Assert.Null(j.ChangedSince(j.Settle()));
    }

    /// <summary>
    /// A directory input that is empty when the job is submitted (the upstream's outputs were moved
    /// aside then) and that the upstream job fills is no change during the run (found by review: the
    /// empty directory was noted, and gone at the end).
    /// </summary>
    [Theory]
    [InlineData("'{cache_dir}'", "cache")]
    [InlineData("'{cache_dir}/graphs.bin'", "cache/d1")]
    public void AnInputEmptyAtSubmission_FilledByTheUpstreamJob_IsNoChange(string prepOutput, string input)
    {
        using var j = Submit(prepOutput, input, (p, _) => Directory.CreateDirectory(p.Dir[input]));

        j.P.Dir.Write("cache/d1/graphs.bin", "written by the upstream job");

        Assert.Null(j.ChangedSince(j.Settle()));
    }

    /// <summary>A glob above an upstream job's output that matches nothing, then or after the job, is KDG3006 as it was, not a change during the run (found by review).</summary>
    [Fact]
    public void AGlobAboveAnUpstreamJobsOutput_ThatNeverMatched_IsKdg3006()
    {
        using var j = Submit("'{cache_dir}'", "cache/*/extra.csv");
        j.P.Dir.Write("cache/d1/graphs.bin", "written by the upstream job");

        var e = Assert.Throws<KdgException>(() => j.Settle());

        Assert.Equal(ErrorCodes.InputMissing, e.Code);
    }
}
