using KdGat.Core.Hashing;
using KdGat.Core.Tests.Support;

namespace KdGat.Core.Tests.Hashing;

[Trait("Category", "Unit")]
public sealed class GlobTests : IDisposable
{
    private readonly TempDir _dir = new();

    public GlobTests()
    {
        foreach (var f in new[] { "src/A.cs", "src/B.cs", "src/readme.md", "src/sub/C.cs", "src/sub/deep/D.cs", "src/sub/deep/E.txt", "top.cs", "src/.nfs0001", "src/.A.cs.1.2.tmp", "src/AB.cs", "src/AXcs" })
            _dir.Write(f, f);
    }

    public void Dispose() => _dir.Dispose();

    private string[] Expand(string pattern) =>
        Glob.Expand(_dir.Path, pattern).Select(f => Path.GetRelativePath(_dir.Path, f)).Order(StringComparer.Ordinal).ToArray();

    [Fact]
    public void Expand_DoubleStar_MatchesAllDepthsIncludingZero() =>
        Assert.Equal(["src/A.cs", "src/AB.cs", "src/B.cs", "src/sub/C.cs", "src/sub/deep/D.cs"], Expand("src/**/*.cs"));

    /// <summary>A code glob's wildcard does not enter the folders stages write; a pattern whose literal part lies there still reaches them.</summary>
    [Fact]
    public void Expand_Wildcard_DoesNotEnterAFolderItIsToldNotInto_UnlessItsLiteralPartIsThere()
    {
        _dir.Write("runs/d1/a/gen.cs", "x");
        var notInto = new HashSet<string>([_dir["runs"]]);
        string[] Code(string pattern) => Glob.Expand(_dir.Path, pattern, notInto).Select(f => Path.GetRelativePath(_dir.Path, f)).Order(StringComparer.Ordinal).ToArray();

        Assert.DoesNotContain("runs/d1/a/gen.cs", Code("**/*.cs"));
        Assert.Contains("src/A.cs", Code("**/*.cs"));
        Assert.Equal(["runs/d1/a/gen.cs"], Code("runs/**/*.cs"));
        Assert.False(Glob.Covers(_dir.Path, "**/*.cs", _dir["runs/d1/a/gen.cs"], notInto));
        Assert.True(Glob.Covers(_dir.Path, "runs/**/*.cs", _dir["runs/d1/a/gen.cs"], notInto));
        Assert.Contains("runs/d1/a/gen.cs", Expand("**/*.cs")); // inputs: no such folders
    }

    [Fact]
    public void Expand_Wildcard_DoesNotDescendIntoAProjectsBuildOutput_UnlessNamed()
    {
        _dir.Write("src/App.csproj", "<Project />");
        _dir.Write("src/obj/Debug/GlobalUsings.g.cs", "x");
        _dir.Write("src/bin/Release/Gen.cs", "x");
        Assert.Equal(["src/A.cs", "src/AB.cs", "src/B.cs", "src/sub/C.cs", "src/sub/deep/D.cs"], Expand("src/**/*.cs"));
        Assert.Equal(["src/obj/Debug/GlobalUsings.g.cs"], Expand("src/obj/**/*.cs"));
        Assert.Equal(["src/obj/Debug/GlobalUsings.g.cs"], Expand("src/**/obj/**/*.cs"));
        Assert.True(Glob.Covers(_dir.Path, "src/**/obj/**/*.cs", _dir["src/obj/Debug/GlobalUsings.g.cs"]));
        Assert.False(Glob.Covers(_dir.Path, "src/**/*.cs", _dir["src/obj/Debug/GlobalUsings.g.cs"])); // the audit sees such a read as undeclared
    }

    /// <summary>
    /// .git/ and .kdgat/ are not even entered by a wildcard that does not name them: a FIFO or a link
    /// cycle there is no error (nothing there can match), and a change there is no listing a no-op
    /// certificate observed (KdGat's own state changes in every build). Named, they are walked.
    /// </summary>
    [Fact]
    public void Expand_Wildcard_DoesNotEnterGitOrKdGatState_UnlessNamed()
    {
        _dir.Write(".kdgat/builds/b.cs", "x");
        _dir.Write(".git/hooks/h.cs", "x");
        Directory.CreateSymbolicLink(_dir[".git/loop"], _dir.Path);
        var seen = new KdGat.Core.NoOp.FileObservations();
        KdGat.Core.NoOp.FileObservations.RecordInto(seen);
        try { Assert.Equal(["src/A.cs", "src/AB.cs", "src/B.cs", "src/sub/C.cs", "src/sub/deep/D.cs", "top.cs"], Expand("**/*.cs")); }
        finally { KdGat.Core.NoOp.FileObservations.RecordInto(null); }
        Assert.DoesNotContain(seen.All, o => o.Path.Contains("/.kdgat/", StringComparison.Ordinal) || o.Path.Contains("/.git/", StringComparison.Ordinal)); // the directories themselves are stat-ed, not entered
        Assert.Equal([".kdgat/builds/b.cs"], Expand(".kdgat/**/*.cs"));
        Assert.Throws<KdGat.Core.Diagnostics.KdgException>(() => Expand("**/.git/hooks/*.cs")); // named: entered, and the link cycle in it is an error as anywhere
    }

    /// <summary>
    /// A bin/ or obj/ beside no project file is code like any other: skipping every bin/ left a stage
    /// whose wrapper script scripts2/bin/wrap.sh changed up to date (found by review, reproduced).
    /// </summary>
    [Fact]
    public void Expand_Wildcard_ReachesABinOfScripts_ButNeverGitOrKdGatState()
    {
        _dir.Write("pipeline.proj", "<Project />"); // every pipeline root has one: not a .NET project
        _dir.Write("bin/train.sh", "exit 0");
        Assert.Equal(["bin/train.sh"], Expand("**/train.sh"));
        _dir.Write("scripts/bin/wrap.sh", "exit 0");
        _dir.Write("scripts/obj/notes.sh", "x");
        _dir.Write("scripts/.git/hooks/pre-commit.sh", "x");
        _dir.Write("scripts/.kdgat/tmp.sh", "x");
        Assert.Equal(["scripts/bin/wrap.sh", "scripts/obj/notes.sh"], Expand("scripts/**/*.sh"));
        Assert.True(Glob.Covers(_dir.Path, "scripts/**/*.sh", _dir["scripts/bin/wrap.sh"]));
        Assert.False(Glob.Covers(_dir.Path, "scripts/**/*.sh", _dir["scripts/.git/hooks/pre-commit.sh"]));
    }

    /// <summary>
    /// A .pyc holds its source's file time: with 'mylib/**' a `touch` of an unchanged module changed the stage's
    /// code (KDG3020, reruns that never settled: a user review). A wildcard, or a folder named whole, leaves out __pycache__; naming it reaches it.
    /// </summary>
    [Fact]
    public void Expand_Wildcard_DoesNotEnterPycache_UnlessNamed()
    {
        _dir.Write("mylib/util.py", "x = 1");
        _dir.Write("mylib/__pycache__/util.cpython-311.pyc", "\u0001");
        _dir.Write("mylib/sub/__pycache__/m.cpython-311.pyc", "\u0001");

        Assert.Equal(["mylib/util.py"], Expand("mylib/**"));
        Assert.Equal(["mylib/util.py"], Expand("mylib")); // a folder named whole: the same
        Assert.Equal(["mylib/util.py"], Expand("mylib/"));
        Assert.False(Glob.Covers(_dir.Path, "mylib/**", _dir["mylib/__pycache__/util.cpython-311.pyc"]));
        Assert.Equal(["mylib/__pycache__/util.cpython-311.pyc"], Expand("mylib/__pycache__/*.pyc"));
        Assert.Equal(["mylib/__pycache__/util.cpython-311.pyc", "mylib/sub/__pycache__/m.cpython-311.pyc"], Expand("mylib/**/__pycache__/*.pyc"));
    }

    /// <summary>A code folder named whole walked its __pycache__ and then dropped what it found: not entered now (a FIFO there was KDG1015).</summary>
    [Fact]
    public void Expand_AFolderNamedWhole_DoesNotEnterPycache()
    {
        _dir.Write("mylib/util.py", "x = 1");
        Directory.CreateDirectory(_dir["mylib/__pycache__"]);
        Assert.Equal(0, Sh.Run("mkfifo mylib/__pycache__/p", _dir.Path).ExitCode);

        Assert.Equal(["mylib/util.py"], Expand("mylib"));
    }

    [Fact]
    public void Expand_SingleStar_DoesNotRecurse() =>
        Assert.Equal(["src/A.cs", "src/AB.cs", "src/B.cs"], Expand("src/*.cs"));

    [Fact]
    public void Expand_QuestionMark_MatchesExactlyOneCharacter() =>
        Assert.Equal(["src/A.cs", "src/B.cs"], Expand("src/?.cs"));

    [Fact]
    public void Expand_StarInMiddleSegment_MatchesOneDirectoryLevel() =>
        Assert.Equal(["src/sub/deep/D.cs"], Expand("src/*/deep/D.cs"));

    [Fact]
    public void Expand_TrailingDoubleStar_MatchesEverythingBelowExceptGhosts() =>
        Assert.Equal(["src/sub/C.cs", "src/sub/deep/D.cs", "src/sub/deep/E.txt"], Expand("src/sub/**"));

    [Fact]
    public void Expand_LiteralFile_ReturnsIt() => Assert.Equal(["top.cs"], Expand("top.cs"));

    [Fact]
    public void Expand_LiteralDirectory_ReturnsItsContentFiles() =>
        Assert.Equal(["src/sub/C.cs", "src/sub/deep/D.cs", "src/sub/deep/E.txt"], Expand("src/sub"));

    [Theory]
    [InlineData("missing.cs")]
    [InlineData("nodir/**/*.cs")]
    [InlineData("src/**/*.py")]
    public void Expand_NoMatch_IsEmpty(string pattern) => Assert.Empty(Expand(pattern));

    [Fact]
    public void Expand_DotInPattern_IsLiteral() =>
        Assert.Equal(["src/A.cs"], Expand("src/A.*"));

    [Fact]
    public void Expand_AbsolutePattern_IgnoresRoot()
    {
        var abs = Path.Combine(_dir.Path, "src") + "/*.md";

        var found = Glob.Expand("/nonexistent-root", abs);

        Assert.Equal([Path.Combine(_dir.Path, "src/readme.md")], found);
    }

    [Theory]
    [InlineData("**/*.cs", "a.cs", true)]
    [InlineData("**/*.cs", "x/y/a.cs", true)]
    [InlineData("**/*.cs", "x/a.csx", false)]
    [InlineData("*.cs", "x/a.cs", false)]
    [InlineData("a?c", "abc", true)]
    [InlineData("a?c", "a/c", false)]
    [InlineData("a+b(c)", "a+b(c)", true)]
    public void ToRegex_MatchesGlobSemantics(string glob, string path, bool expected) =>
        Assert.Equal(expected, Glob.ToRegex(glob).IsMatch(path));

    /// <summary>
    /// Many '**' against a deep path: a backtracking regex took longer than two minutes for seven of
    /// them over 100 directories (found by a hostile-input pass); matching is linear now. The bound
    /// only tells a hang from a finish: it takes milliseconds.
    /// </summary>
    [Fact]
    public async Task ManyDoubleStars_AgainstADeepPath_Finish()
    {
        var deep = string.Concat(Enumerable.Repeat("d/", 200)) + "f.x";
        var glob = string.Join("/", Enumerable.Repeat("**", 12)) + "/z.x";
        var match = Task.Run(() => (Glob.ToRegex(glob).IsMatch(deep), Glob.ToRegex(glob).IsMatch(deep[..^3] + "z.x")));
        Assert.Equal((false, true), await match.WaitAsync(TimeSpan.FromSeconds(60))); // TimeoutException: it did not finish
    }
}
