namespace KdGat.Sample.Tests;

/// <summary>Training verbs must react to what they are given, or KdGat's staleness tracking would be moot.</summary>
[Trait("Category", "EndToEnd")]
public sealed class TrainingTests : IDisposable
{
    private readonly Workspace _ws = new();

    public TrainingTests()
    {
        _ws.Prepare();
        _ws.TrainLarge();
    }

    public void Dispose() => _ws.Dispose();

    private byte[] Ckpt(string dir) => File.ReadAllBytes(_ws[$"{dir}/model.ckpt"]);

    [Fact]
    public void Autoencoder_LearningRateChangesCheckpoint()
    {
        var changed = _ws.WriteParams("vgae_lr.json", Workspace.VgaeLarge.Replace("\"lr\": 0.01", "\"lr\": 0.02"));
        Assert.NotEqual(Workspace.VgaeLarge, File.ReadAllText(changed));

        _ws.Ok("autoencoder", "--cache", _ws["cache"], "--params", _ws["vgae_large.json"], "--out", _ws["same"]);
        _ws.Ok("autoencoder", "--cache", _ws["cache"], "--params", changed, "--out", _ws["changed"]);

        Assert.Equal(Ckpt("vgae_large"), Ckpt("same"));
        Assert.NotEqual(Ckpt("vgae_large"), Ckpt("changed"));
    }

    [Fact]
    public void Curriculum_LearningRateChangesCheckpoint()
    {
        var changed = _ws.WriteParams("gat_lr.json", Workspace.GatLarge.Replace("\"lr\": 0.001", "\"lr\": 0.002"));

        _ws.Ok("curriculum", "--cache", _ws["cache"], "--params", changed, "--vgae", _ws["vgae_large"], "--out", _ws["changed"]);

        Assert.NotEqual(Ckpt("gat_large"), Ckpt("changed"));
    }

    [Fact]
    public void Autoencoder_UnknownParamsAreIgnored()
    {
        var extra = _ws.WriteParams("extra.json", Workspace.VgaeLarge.Replace("{", """{"optimizer.name": "adam", "notes": [1, 2], """));

        _ws.Ok("autoencoder", "--cache", _ws["cache"], "--params", extra, "--out", _ws["extra"]);

        Assert.Equal(Ckpt("vgae_large"), Ckpt("extra"));
    }

    [Theory]
    [InlineData("autoencoder")]
    [InlineData("curriculum")]
    [InlineData("fusion")]
    public void Training_TeacherChangesStudentCheckpoint(string verb)
    {
        var (paramsJson, teacher) = verb switch
        {
            "autoencoder" => (Workspace.VgaeSmallKd, "vgae_large"),
            "curriculum" => (Workspace.GatSmallKd, "gat_large"),
            _ => (Workspace.DqnSmallKd, "dqn_large"),
        };
        var p = _ws.WriteParams("small.json", paramsJson);
        string[] Args(string outDir) => verb switch
        {
            "autoencoder" => ["autoencoder", "--cache", _ws["cache"], "--params", p, "--out", _ws[outDir]],
            "curriculum" => ["curriculum", "--cache", _ws["cache"], "--params", p, "--vgae", _ws["vgae_large"], "--out", _ws[outDir]],
            _ => ["fusion", "--cache", _ws["cache"], "--params", p, "--vgae", _ws["vgae_large"], "--gat", _ws["gat_large"], "--out", _ws[outDir]],
        };

        _ws.Ok(Args("plain"));
        _ws.Ok([.. Args("distilled"), "--teacher", _ws[teacher]]);

        Assert.NotEqual(Ckpt("plain"), Ckpt("distilled"));
    }

    [Fact]
    public void Curriculum_TeacherContentChangesStudent()
    {
        // Same teacher dir name, different teacher weights: the student must follow the content.
        var p = _ws.WriteParams("small.json", Workspace.GatSmallKd);
        _ws.Ok("curriculum", "--cache", _ws["cache"], "--params", p, "--vgae", _ws["vgae_large"], "--teacher", _ws["gat_large"], "--out", _ws["before"]);
        _ws.Ok("curriculum", "--cache", _ws["cache"], "--params", _ws.WriteParams("t.json", Workspace.GatLarge.Replace("\"seed\": 11", "\"seed\": 12")),
            "--vgae", _ws["vgae_large"], "--out", _ws["gat_large"]);

        _ws.Ok("curriculum", "--cache", _ws["cache"], "--params", p, "--vgae", _ws["vgae_large"], "--teacher", _ws["gat_large"], "--out", _ws["after"]);

        Assert.NotEqual(Ckpt("before"), Ckpt("after"));
    }

    [Fact]
    public void Curriculum_UpstreamVgaeChangesCheckpoint()
    {
        _ws.Ok("autoencoder", "--cache", _ws["cache"], "--params", _ws.WriteParams("v.json", Workspace.VgaeLarge.Replace("\"seed\": 7", "\"seed\": 8")), "--out", _ws["vgae_other"]);

        _ws.Ok("curriculum", "--cache", _ws["cache"], "--params", _ws["gat_large.json"], "--vgae", _ws["vgae_other"], "--out", _ws["gat_other"]);

        Assert.NotEqual(Ckpt("gat_large"), Ckpt("gat_other"));
    }
}
