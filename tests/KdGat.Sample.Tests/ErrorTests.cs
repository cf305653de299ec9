namespace KdGat.Sample.Tests;

/// <summary>Mistakes a user can make: exit 2, one line naming the file and the fix, no stack trace.</summary>
[Trait("Category", "EndToEnd")]
public sealed class ErrorTests : IDisposable
{
    private readonly Workspace _ws = new();

    public void Dispose() => _ws.Dispose();

    private static void AssertUserError(RunResult r, string mentions)
    {
        Assert.True(r.ExitCode == 2, r.ToString());
        Assert.StartsWith("kdgat-sample: error: ", r.Stderr);
        Assert.Contains(mentions, r.Stderr);
        Assert.DoesNotContain("   at ", r.Stderr);
        Assert.DoesNotContain("Exception", r.Stderr);
    }

    [Fact]
    public void Run_WithoutVerb_PrintsUsageAndExits2()
    {
        var r = _ws.Run();

        Assert.Equal(2, r.ExitCode);
        Assert.Contains("usage:", r.Stderr);
        Assert.Contains("KDGAT_SAMPLE_ALLOC_MB", r.Stderr);
        Assert.Contains("KDGAT_SAMPLE_SLEEP_MS", r.Stderr);
    }

    [Fact]
    public void Run_UnknownVerb_NamesItAndExits2()
    {
        var r = _ws.Run("train");

        Assert.Equal(2, r.ExitCode);
        Assert.Contains("unknown verb 'train'", r.Stderr);
        Assert.Contains("usage:", r.Stderr);
    }

    [Fact]
    public void Run_Help_PrintsUsageToStdout()
    {
        var r = _ws.Run("help");

        Assert.Equal(0, r.ExitCode);
        Assert.Contains("usage:", r.Stdout);
    }

    [Fact]
    public void Generate_MissingOption_Exits2()
    {
        AssertUserError(_ws.Run("generate", "--dataset", "hcrl_sa"), "--out");
    }

    [Fact]
    public void Preprocess_UnknownOption_Exits2()
    {
        AssertUserError(_ws.Run("preprocess", "--raw", _ws["raw"], "--out", _ws["cache"], "--widow", "5"), "--widow");
    }

    [Fact]
    public void Preprocess_MissingRawData_NamesTheFile()
    {
        AssertUserError(_ws.Run("preprocess", "--raw", _ws["nowhere"], "--out", _ws["cache"]), _ws["nowhere"]);
    }

    [Fact]
    public void Preprocess_MalformedRow_ReportsFileAndLine()
    {
        _ws.Ok("generate", "--dataset", "hcrl_sa", "--out", _ws["raw"]);
        var file = _ws["raw/capture_02.csv"];
        var lines = File.ReadAllLines(file);
        lines[4] = "0.1,XYZ,00,0";
        File.WriteAllLines(file, lines);

        var r = _ws.Run("preprocess", "--raw", _ws["raw"], "--out", _ws["cache"]);

        AssertUserError(r, file + "(5): ");
        Assert.False(Directory.Exists(_ws["cache"]), "a failed preprocess must not leave a cache behind");
    }

    [Fact]
    public void Preprocess_MalformedParams_ReportsFileAndLine()
    {
        _ws.Ok("generate", "--dataset", "hcrl_sa", "--out", _ws["raw"]);
        var p = _ws.WriteParams("bad.json", "{\n  \"window\": 50,\n  \"stride\": \n}");

        var r = _ws.Run("preprocess", "--raw", _ws["raw"], "--out", _ws["cache"], "--params", p);

        AssertUserError(r, p + "(4): ");
    }

    [Fact]
    public void Autoencoder_WrongParamType_NamesParamAndFile()
    {
        _ws.Prepare();
        var p = _ws.WriteParams("bad.json", """{"lr": "fast"}""");

        var r = _ws.Run("autoencoder", "--cache", _ws["cache"], "--params", p, "--out", _ws["vgae"]);

        AssertUserError(r, p);
        Assert.Contains("'lr'", r.Stderr);
    }

    [Fact]
    public void Autoencoder_MissingCache_SaysToPreprocess()
    {
        var r = _ws.Run("autoencoder", "--cache", _ws["cache"], "--params", _ws.WriteParams("v.json", Workspace.VgaeLarge), "--out", _ws["vgae"]);

        AssertUserError(r, _ws["cache/index.json"]);
        Assert.Contains("preprocess", r.Stderr);
    }

    [Fact]
    public void Curriculum_MissingUpstreamModel_Exits2AndWritesNothing()
    {
        _ws.Prepare();
        Directory.CreateDirectory(_ws["vgae_large"]);

        var r = _ws.Run("curriculum", "--cache", _ws["cache"], "--params", _ws.WriteParams("g.json", Workspace.GatLarge), "--vgae", _ws["vgae_large"], "--out", _ws["gat"]);

        AssertUserError(r, _ws["vgae_large/model.ckpt"]);
        Assert.False(File.Exists(_ws["gat/model.ckpt"]));
        Assert.False(File.Exists(_ws["gat/train_log.json"]));
    }

    [Fact]
    public void Evaluate_ModelOfTheWrongKind_NamesIt()
    {
        _ws.Prepare();
        _ws.TrainLarge();

        var r = _ws.Run("evaluate", "--cache", _ws["cache"], "--vgae", _ws["vgae_large"], "--gat", _ws["vgae_large"], "--dqn", _ws["dqn_large"], "--out", _ws["eval"]);

        AssertUserError(r, "--gat holds a 'vgae' model");
    }

    [Fact]
    public void Evaluate_CorruptCheckpoint_NamesItAndTheLine()
    {
        _ws.Prepare();
        _ws.TrainLarge();
        File.WriteAllText(_ws["dqn_large/model.ckpt"], "{\n \"kind\": \"dqn\",\n");

        var r = _ws.Run("evaluate", "--cache", _ws["cache"], "--vgae", _ws["vgae_large"], "--gat", _ws["gat_large"], "--dqn", _ws["dqn_large"], "--out", _ws["eval"]);

        AssertUserError(r, _ws["dqn_large/model.ckpt"] + "(3): ");
    }
}
