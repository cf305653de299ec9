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
        using var p = new TestPipeline("""
            datasets: [d1]
            paths: { runs: runs, raw: 'raw/{dataset}', cache: 'cache/{dataset}' }
            stages:
              prep: { command: x, outputs: ['{cache_dir}'] }
              fit: { command: 'fit cache', inputs: ['cache'], outputs: [m] }
            """);
        var instances = p.Instances([new StageDeclaration("prep", []), new StageDeclaration("fit", ["prep"])]);
        var (prep, fit) = (instances[0], instances[1]);
        p.Dir.Write("cache/notes.txt", "v1");
        p.Dir.Write("cache/d1/graphs.bin", "old");
        var fp = new Fingerprinter(new PathHasher(new HashCache()));
        var submitted = fp.Compute(fit, new Dictionary<string, string> { ["prep"] = "job:1" }, pending: [prep]);
        var seen = fp.Snapshot(fit, submitted);
        Assert.Equal(Fingerprinter.PendingInput, submitted.Inputs["cache"]);

        File.Delete(p.Dir["cache/d1/graphs.bin"]);
        p.Dir.Write("cache/d1/graphs.bin", "new, written by the upstream job");
        switch (editOtherFile)
        {
            case "edit undone":
                File.WriteAllText(p.Dir["cache/notes.txt"], "v2");
                File.WriteAllText(p.Dir["cache/notes.txt"], "v1"); // undone before the job ended: same content, another mtime or inode
                File.SetLastWriteTimeUtc(p.Dir["cache/notes.txt"], DateTime.UtcNow.AddMinutes(1));
                break;
            case "chmod": File.SetUnixFileMode(p.Dir["cache/notes.txt"], File.GetUnixFileMode(p.Dir["cache/notes.txt"]) | UnixFileMode.UserExecute); break;
            case "empty dir": Directory.CreateDirectory(p.Dir["cache/new_dataset"]); break;
            case "deleted": Directory.Delete(p.Dir["cache"], recursive: true); break;
        }
        var settled = fp.Settled(submitted, fit, new Dictionary<string, string> { ["prep"] = "digest" }, seen);
        var changed = fp.ChangedSince(fit, settled, seen);

        if (editOtherFile is null or "edit undone")
            Assert.Equal(fp.Compute(fit, new Dictionary<string, string> { ["prep"] = "digest" }).Inputs["cache"], settled.Inputs["cache"]);
        if (editOtherFile is null) Assert.Null(changed);
        else Assert.StartsWith("input cache", changed?.What);
    }

    /// <summary>What an upstream job writes to its run dir (logs, params.json) is not an edit of an input that names that dir.</summary>
    [Fact]
    public void AnInputInAnUpstreamJobsRunDir_IsNotChangedByWhatTheJobWritesThere()
    {
        using var p = new TestPipeline("""
            datasets: [d1]
            paths: { runs: runs, raw: 'raw/{dataset}', cache: 'cache/{dataset}' }
            stages:
              prep: { command: x, outputs: ['{cache_dir}'] }
              fit: { command: 'fit', inputs: ['runs/d1/prep'], outputs: [m] }
            """);
        var instances = p.Instances([new StageDeclaration("prep", []), new StageDeclaration("fit", ["prep"])]);
        var (prep, fit) = (instances[0], instances[1]);
        Assert.Equal(p.Dir["runs/d1/prep"], prep.RunDir);
        Directory.CreateDirectory(prep.RunDir);
        File.WriteAllText(Path.Combine(prep.RunDir, "log.txt"), "old");
        var fp = new Fingerprinter(new PathHasher(new HashCache()));
        var submitted = fp.Compute(fit, new Dictionary<string, string> { ["prep"] = "job:1" }, pending: [prep]);
        var seen = fp.Snapshot(fit, submitted);

        File.Delete(Path.Combine(prep.RunDir, "log.txt"));
        File.WriteAllText(Path.Combine(prep.RunDir, "log.txt"), "the job's log");
        var settled = fp.Settled(submitted, fit, new Dictionary<string, string> { ["prep"] = "digest" });

        Assert.Null(fp.ChangedSince(fit, settled, seen));
    }

    /// <summary>
    /// A directory input that is empty when the job is submitted (the upstream's outputs were moved
    /// aside then) and that the upstream job fills is no change during the run (found by review: the
    /// empty directory was noted, and gone at the end).
    /// </summary>
    [Theory]
    [InlineData("'{cache_dir}'", "cache", "cache")]
    [InlineData("'{cache_dir}/graphs.bin'", "cache/d1", "cache/d1")]
    public void AnInputEmptyAtSubmission_FilledByTheUpstreamJob_IsNoChange(string prepOutput, string input, string emptyDir)
    {
        using var p = new TestPipeline($$"""
            datasets: [d1]
            paths: { runs: runs, raw: 'raw/{dataset}', cache: 'cache/{dataset}' }
            stages:
              prep: { command: x, outputs: [{{prepOutput}}] }
              fit: { command: 'fit', inputs: ['{{input}}'], outputs: [m] }
            """);
        var instances = p.Instances([new StageDeclaration("prep", []), new StageDeclaration("fit", ["prep"])]);
        var (prep, fit) = (instances[0], instances[1]);
        Directory.CreateDirectory(p.Dir[emptyDir]);
        var fp = new Fingerprinter(new PathHasher(new HashCache()));
        var submitted = fp.Compute(fit, new Dictionary<string, string> { ["prep"] = "job:1" }, pending: [prep]);
        var seen = fp.Snapshot(fit, submitted);

        p.Dir.Write("cache/d1/graphs.bin", "written by the upstream job");
        var settled = fp.Settled(submitted, fit, new Dictionary<string, string> { ["prep"] = "digest" }, seen);

        Assert.Null(fp.ChangedSince(fit, settled, seen));
    }

    /// <summary>A glob above an upstream job's output that matches nothing, then or after the job, is KDG3006 as it was, not a change during the run (found by review).</summary>
    [Fact]
    public void AGlobAboveAnUpstreamJobsOutput_ThatNeverMatched_IsKdg3006()
    {
        using var p = new TestPipeline("""
            datasets: [d1]
            paths: { runs: runs, raw: 'raw/{dataset}', cache: 'cache/{dataset}' }
            stages:
              prep: { command: x, outputs: ['{cache_dir}'] }
              fit: { command: 'fit', inputs: ['cache/*/extra.csv'], outputs: [m] }
            """);
        var instances = p.Instances([new StageDeclaration("prep", []), new StageDeclaration("fit", ["prep"])]);
        var (prep, fit) = (instances[0], instances[1]);
        var fp = new Fingerprinter(new PathHasher(new HashCache()));
        var submitted = fp.Compute(fit, new Dictionary<string, string> { ["prep"] = "job:1" }, pending: [prep]);
        var seen = fp.Snapshot(fit, submitted);
        p.Dir.Write("cache/d1/graphs.bin", "written by the upstream job");

        var e = Assert.Throws<KdgException>(() => fp.Settled(submitted, fit, new Dictionary<string, string> { ["prep"] = "digest" }, seen));

        Assert.Equal(ErrorCodes.InputMissing, e.Code);
    }
}
