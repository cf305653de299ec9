using KdGat.Core.Hashing;
using KdGat.Core.Pipeline;
using KdGat.Core.Planning;
using KdGat.Core.Tests.Support;

namespace KdGat.Core.Tests.Planning;

/// <summary>
/// An input folder named whole (inputs: [lib]) leaves out Python's __pycache__ as a wildcard and a code folder
/// named whole do: a stage importing from it wrote lib/__pycache__/ as it ran, KDG3020 and a rerun at every build (rvnewuser).
/// </summary>
[Trait("Category", "Unit")]
public sealed class InputFolderPycacheTests : IDisposable
{
    private readonly TestPipeline _p = new("""
        datasets: [d1]
        paths: { runs: runs, raw: 'raw/{dataset}', cache: 'cache/{dataset}' }
        stages:
          feat: { command: 'python3 feat.py', inputs: [lib], outputs: [f.json] }
          pyc: { command: 'x', inputs: [lib/__pycache__], outputs: [r.txt] }
        """);
    private readonly Fingerprinter _fp = new(new PathHasher(new HashCache()));
    public void Dispose() => _p.Dispose();

    private StageInstance Stage(string name) => _p.Instances([new StageDeclaration(name, [])]).Single(s => s.Name == name);
    private FingerprintComponents Now(StageInstance s) => _fp.Compute(s, new Dictionary<string, string>());

    [Fact]
    public void ThePycacheTheStagesImportWrites_IsNoChangeDuringTheRun_NorAfter()
    {
        _p.Dir.Write("lib/util.py", "x = 1\n");
        _p.Dir.Write("lib/sub/m.py", "y = 1\n");
        var s = Stage("feat");
        var used = Now(s);
        var seen = _fp.Snapshot(s, used);

        _p.Dir.Write("lib/__pycache__/util.cpython-311.pyc", "bytecode"); // the stage's own import
        _p.Dir.Write("lib/sub/__pycache__/m.cpython-311.pyc", "bytecode");

        Assert.Null(_fp.ChangedSince(s, used, seen));
        Assert.Equal(used.Digest(), Now(s).Digest());
        _p.Dir.Write("lib/__pycache__/util.cpython-311.pyc", "recompiled after a touch");
        Assert.Equal(used.Digest(), Now(s).Digest());
    }

    [Fact]
    public void TheSourcesBesideIt_StillCount_AndNamingPycacheReachesIt()
    {
        _p.Dir.Write("lib/util.py", "x = 1\n");
        _p.Dir.Write("lib/__pycache__/util.cpython-311.pyc", "bytecode");
        var s = Stage("feat");
        var used = Now(s);
        var seen = _fp.Snapshot(s, used);

        _p.Dir.Write("lib/util.py", "x = 2\n"); // an edit while it ran

        Assert.Equal("input lib", _fp.ChangedSince(s, used, seen)?.What);
        Assert.NotEqual(used.Digest(), Now(s).Digest());

        var named = Stage("pyc");
        var before = Now(named).Digest();
        _p.Dir.Write("lib/__pycache__/util.cpython-311.pyc", "other");
        Assert.NotEqual(before, Now(named).Digest());
    }

    /// <summary>Not even entered (what it holds would be left out anyway): a FIFO there was KDG1015 at every build.</summary>
    [Fact]
    public void APycacheFolder_IsNotEntered()
    {
        _p.Dir.Write("lib/util.py", "x = 1\n");
        Directory.CreateDirectory(_p.Dir["lib/__pycache__"]);
        Assert.Equal(0, Sh.Run("mkfifo lib/__pycache__/p", _p.Dir.Path).ExitCode);
        var s = Stage("feat");

        var used = Now(s);

        Assert.Null(_fp.ChangedSince(s, used, _fp.Snapshot(s, used)));
    }
}
