using KdGat.Core.Config;
using KdGat.Core.Diagnostics;
using KdGat.Core.Tests.Support;

namespace KdGat.Core.Tests.Config;

/// <summary>
/// Inputs that used to crash (stack overflow), grow memory without bound or hang: each is a KDG
/// error with the file and position. A hang is caught by a generous timeout (not a timing
/// assertion: the error comes in milliseconds).
/// </summary>
[Trait("Category", "Unit")]
public sealed class YamlLimitsTests : IDisposable
{
    private readonly TempDir _dir = new();
    public void Dispose() => _dir.Dispose();

    /// <summary>One stage; a test appends its own lines (params_file, params, resources) to it.</summary>
    internal const string Stage = """
        datasets: [d1]
        stages:
          train:
            command: 'true'
            outputs: [out.txt]

        """;

    private KdgException LoadFails(string config)
    {
        var file = _dir.Write("kdgat.yaml", config);
        var load = Task.Run(() => Assert.Throws<KdgException>(() => ConfigLoader.Load(file, _dir.Path)));
        Assert.True(load.Wait(TimeSpan.FromMinutes(1)), "loading the configuration hung");
        return load.Result;
    }

    [Fact]
    public void SelfReferentialAlias_InParamsFile_IsKdg1009()
    {
        _dir.Write("p.yaml", "loop: &loop {self: *loop}\n");

        var e = LoadFails(Stage + "    params_file: p.yaml\n");

        Assert.Equal(ErrorCodes.ParamsFile, e.Code);
        Assert.Equal(_dir["p.yaml"], e.File);
        Assert.Equal((1, 20), (e.Line, e.Column));
        Assert.Contains("cycle", e.Message);
    }

    [Fact]
    public void SelfReferentialAlias_InInlineParams_IsKdg1002()
    {
        var e = LoadFails(Stage + "    params: &loop {self: *loop}\n");

        Assert.Equal(ErrorCodes.YamlSyntax, e.Code);
        Assert.Equal(_dir["kdgat.yaml"], e.File);
        Assert.Equal(6, e.Line);
    }

    /// <summary>An alias without an anchor was "YAML too large to read ... use fewer and smaller aliases" (a review).</summary>
    [Fact]
    public void AnAliasWithoutAnAnchor_IsKdg1002_SayingSo()
    {
        var e = LoadFails(Stage + "    params: *nope\n");

        Assert.Equal(ErrorCodes.YamlSyntax, e.Code);
        Assert.Equal((6, 13), (e.Line, e.Column));
        Assert.Contains("alias '*nope' refers to no anchor", e.Message);
        Assert.DoesNotContain("too large", e.Message);
    }

    [Fact]
    public void BillionLaughs_InParamsFile_IsKdg1009()
    {
        var lines = new List<string> { "a0: &a0 {x: 1, y: 2}" };
        for (var i = 1; i <= 30; i++) lines.Add($"a{i}: &a{i} {{l: *a{i - 1}, r: *a{i - 1}, s: *a{i - 1}}}");
        _dir.Write("p.yaml", string.Join('\n', lines) + "\n");

        var e = LoadFails(Stage + "    params_file: p.yaml\n");

        Assert.Equal(ErrorCodes.ParamsFile, e.Code);
        Assert.Equal(_dir["p.yaml"], e.File);
        Assert.Contains("100,000", e.Message);
        Assert.True(e.Line > 1);
    }

    [Fact]
    public void DeepNesting_IsKdg1002_NotAStackOverflow()
    {
        var e = LoadFails(Stage + "    params: {x: " + new string('[', 100_000) + "\n");

        Assert.Equal(ErrorCodes.YamlSyntax, e.Code);
        Assert.Contains("deeper than 64", e.Message);
    }

    [Fact]
    public void AliasChain_DeeperThanTheLimitWhenExpanded_IsKdg1002()
    {
        var lines = new List<string> { "a0: &a0 [1]" };
        for (var i = 1; i <= 70; i++) lines.Add($"a{i}: &a{i} [*a{i - 1}]");

        var e = LoadFails(string.Join('\n', lines) + "\n");

        Assert.Equal(ErrorCodes.YamlSyntax, e.Code);
        Assert.Contains("aliases expanded", e.Message);
    }

    [Fact]
    public void ParamsFile_IsDevZero_IsKdg1009()
    {
        var e = LoadFails(Stage + "    params_file: /dev/zero\n");

        Assert.Equal(ErrorCodes.ParamsFile, e.Code);
        Assert.Contains("character device", e.Message);
        Assert.Equal(_dir["kdgat.yaml"], e.File);
    }

    [Fact]
    public void ParamsFile_IsAFifo_IsKdg1009_WithoutBlocking()
    {
        Assert.Equal(0, Sh.Run("mkfifo p.yaml", _dir.Path).ExitCode);

        var e = LoadFails(Stage + "    params_file: p.yaml\n");

        Assert.Equal(ErrorCodes.ParamsFile, e.Code);
        Assert.Contains("FIFO", e.Message);
    }

    [Fact]
    public void ParamsFile_IsADirectory_SaysSo()
    {
        Directory.CreateDirectory(_dir["models"]);

        var e = LoadFails(Stage + "    params_file: models\n");

        Assert.Equal(ErrorCodes.ParamsFile, e.Code);
        Assert.Contains("is a directory", e.Message);
        Assert.DoesNotContain("does not exist", e.Message);
    }

    [Fact]
    public void Config_IsADirectory_IsKdg1001()
    {
        Directory.CreateDirectory(_dir["conf"]);

        var e = Assert.Throws<KdgException>(() => ConfigLoader.Load(_dir["conf"], _dir.Path));

        Assert.Equal(ErrorCodes.ConfigNotFound, e.Code);
        Assert.Contains("is a directory", e.Message);
    }

    [Fact]
    public void ParamsFile_LargerThanTheLimit_IsKdg1009()
    {
        _dir.Write("p.yaml", "x: '" + new string('a', YamlLoader.MaxFileBytes) + "'\n");

        var e = LoadFails(Stage + "    params_file: p.yaml\n");

        Assert.Equal(ErrorCodes.ParamsFile, e.Code);
        Assert.Contains("1024 KiB", e.Message);
        // It read "params_file has '.../p.yaml' is larger than 1024 KiB" (found by review).
        Assert.Contains($"stage 'train': in its params_file, '{_dir["p.yaml"]}' is larger than 1024 KiB", e.Message);
    }

    /// <summary>60,000 plain parameters: the message counted keys as "values" and advised "fewer and smaller aliases" where there are none (found by review).</summary>
    [Fact]
    public void ManyPlainParameters_SayKeysAndValues_WithoutAliasAdvice()
    {
        _dir.Write("p.yaml", string.Concat(Enumerable.Range(0, 60_000).Select(i => $"p{i}: {i}\n")));

        var e = LoadFails(Stage + "    params_file: p.yaml\n");

        Assert.Equal(ErrorCodes.ParamsFile, e.Code);
        Assert.Contains("it has more than 100,000 nodes (keys and values)", e.Message);
        Assert.DoesNotContain("alias", e.Message);
        Assert.Contains("put data (tables, long lists) in a file the stage reads", e.Message);
    }

    [Fact]
    public void DeepPlainNesting_SaysNestLess_WithoutAliasAdvice()
    {
        var e = LoadFails(Stage + "    params: " + string.Concat(Enumerable.Repeat("{a: ", 70)) + "1" + new string('}', 70) + "\n");

        Assert.Equal(ErrorCodes.YamlSyntax, e.Code);
        Assert.Contains("nesting is deeper than 64 levels", e.Message);
        Assert.DoesNotContain("alias", e.Message);
        Assert.Contains("Nest mappings and lists less deeply", e.Message);
    }

    /// <summary>A symbolic link loop as params_file or kdgat.yaml said "does not exist. Create it" (found by review).</summary>
    [Fact]
    public void ParamsFile_IsASymlinkLoop_SaysSo()
    {
        File.CreateSymbolicLink(_dir["p.yaml"], "q.yaml");
        File.CreateSymbolicLink(_dir["q.yaml"], "p.yaml");

        var e = LoadFails(Stage + "    params_file: p.yaml\n");

        Assert.Equal(ErrorCodes.ParamsFile, e.Code);
        Assert.Contains("is a symbolic link loop", e.Message);
        Assert.DoesNotContain("does not exist", e.Message);
        Assert.DoesNotContain("Create it", e.Message);
    }

    [Fact]
    public void Config_IsASymlinkLoop_IsKdg1001SayingSo()
    {
        File.CreateSymbolicLink(_dir["kdgat.yaml"], "kdgat.yaml");

        var e = Assert.Throws<KdgException>(() => ConfigLoader.Load(_dir["kdgat.yaml"], _dir.Path));

        Assert.Equal(ErrorCodes.ConfigNotFound, e.Code);
        Assert.Contains("is a symbolic link loop", e.Message);
        Assert.DoesNotContain("Create it", e.Message);
    }

    [Fact]
    public void ParamsFile_IsADanglingSymlink_NamesItsTarget()
    {
        File.CreateSymbolicLink(_dir["p.yaml"], "gone.yaml");

        var e = LoadFails(Stage + "    params_file: p.yaml\n");

        Assert.Equal(ErrorCodes.ParamsFile, e.Code);
        Assert.Contains("is a symbolic link to 'gone.yaml', which does not exist", e.Message);
    }

    [Theory]
    [InlineData("datasets: [d1\n", 1, 11, "'['")]
    [InlineData("datasets: {d1\n", 1, 11, "'{'")]
    [InlineData("stages:\n  a: [x\n", 2, 6, "'['")]
    [InlineData("executor: [local   # a comment\ndatasets: [d1]\n", 1, 11, "'['")]
    [InlineData("datasets: [d1  # a comment\n", 1, 11, "'['")]
    public void UnclosedBracket_IsKdg1002_AtTheBracket(string yaml, int line, int column, string bracket)
    {
        var e = LoadFails(yaml);

        Assert.Equal(ErrorCodes.YamlSyntax, e.Code);
        Assert.Equal(_dir["kdgat.yaml"], e.File);
        // Was the line after, with YamlDotNet's "Operation is not valid due to the current state of the object".
        Assert.Equal((line, column), (e.Line, e.Column));
        Assert.Contains($"{bracket} here is not closed", e.Message);
        Assert.DoesNotContain("Operation is not valid", e.Message);
    }

    [Theory]
    [InlineData("datasets: [d1]\nstages: {a: b: c}\n")]
    [InlineData("datasets: [d1, \"b\" c]\n")]
    public void AClosedButMalformedFlowCollection_IsNotCalledUnclosed(string yaml)
    {
        var e = LoadFails(yaml);
        Assert.Equal(ErrorCodes.YamlSyntax, e.Code);
        Assert.DoesNotContain("not closed", e.Message); // a review found these called unclosed
    }
}
