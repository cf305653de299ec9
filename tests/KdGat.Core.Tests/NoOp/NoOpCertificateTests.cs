using KdGat.Core.Engine;
using KdGat.Core.NoOp;
using KdGat.Core.Pipeline;

namespace KdGat.Core.Tests.NoOp;

/// <summary>The certificate file and its keys: damaged means none, and no request field is left out of a key.</summary>
[Trait("Category", "Unit")]
public sealed class NoOpCertificateTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("kdgat-cert-").FullName;
    public void Dispose() => Directory.Delete(_root, recursive: true);

    private static BuildRequest Request() => new() { Root = "/r", ConfigFile = "kdgat.yaml", ToolsDir = "/t", Stages = [new StageDeclaration("a", [])] };

    private NoOpCertificate Certificate(string watched) => new()
    {
        PlanKey = "plan1",
        BuildKey = "build1",
        Executor = "local",
        Datasets = ["d1"],
        Stamps = [new StageStamps.Entry("d1", "a", "/s/fingerprints", "/s/a.current", Outcome.UpToDate, [])],
        PlanGraph = [new StageDeclaration("a", []), new StageDeclaration("b", ["a", "c"])],
        Rows = [("d1", "a", null), ("d1", "b", "seed=1")],
        Observations = [(FileObservations.Probe.FileExists, watched, "0")],
        Warnings = [new(KdGat.Core.Diagnostics.Severity.Warning, KdGat.Core.Diagnostics.ErrorCodes.CodePatternMatchesNothing, "code pattern 'srcx/**/*.py' matches no file (it's: here)", "/r/kdgat.yaml", 12, 34)],
    };

    [Fact]
    public void WrittenAndFound_WhileWhatItObservedHolds()
    {
        var watched = Path.Combine(_root, "attempt.json");
        NoOpCertificate.Write(_root, Certificate(watched));
        var found = NoOpCertificate.Find(_root, "plan1");
        Assert.NotNull(found);
        Assert.Equal([("d1", "a", (string?)null), ("d1", "b", "seed=1")], found.Rows);
        Assert.Equal("/s/a.current", Assert.Single(found.Stamps).Marker);
        // Said again as recorded: code, file, line, column and text.
        Assert.Equal(Certificate(watched).Warnings, found.Warnings);
        Assert.Equal(["a", "c"], found.PlanGraph.Single(g => g.Name == "b").Needs);
        // The build's graph against the plan's: Needs compared as sets, stages only one side has not at all.
        Assert.Null(found.StageWithOtherNeeds([new StageDeclaration("b", ["c", "a"]), new StageDeclaration("z", ["q"])]));
        Assert.Equal("b", found.StageWithOtherNeeds([new StageDeclaration("a", []), new StageDeclaration("b", ["a"])]));
        Assert.Same(found, NoOpCertificate.Find(_root, found, "build1"));
        Assert.Null(NoOpCertificate.Find(_root, found, "build2")); // another build of the same plan: its own certificate, none here
        File.WriteAllText(watched, "{}");
        Assert.Null(NoOpCertificate.Find(_root, "plan1"));
        Assert.Null(NoOpCertificate.Find(_root, "plan2"));
    }

    [Fact]
    public void ADamagedCertificate_IsNone()
    {
        NoOpCertificate.Write(_root, Certificate(Path.Combine(_root, "x")));
        var file = Directory.GetFiles(NoOpCertificate.DirOf(_root)).Single();
        File.WriteAllText(file, File.ReadAllText(file).Replace("seed=1", "seed=2"));
        Assert.Null(NoOpCertificate.Find(_root, "plan1"));
        File.WriteAllText(file, "kdgat-noop v1\n");
        Assert.Null(NoOpCertificate.Find(_root, "plan1"));
    }

    /// <summary>Every BuildRequest property, changed alone, changes the key: a field added later cannot be left out.</summary>
    [Fact]
    public void EveryRequestField_IsInTheKey()
    {
        var baseKey = NoOpCertificate.KeyOf(Request());
        foreach (var p in typeof(BuildRequest).GetProperties())
        {
            object? other = p.PropertyType switch
            {
                var t when t == typeof(string) => "other",
                var t when t == typeof(bool) => !(bool)p.GetValue(Request())!,
                var t when t == typeof(int) => 12345,
                var t when t == typeof(BuildMode) => BuildMode.Adopt,
                var t when t == typeof(Core.Config.ExecutorKind?) => Core.Config.ExecutorKind.Slurm,
                var t when t == typeof(IReadOnlyList<StageDeclaration>) => new[] { new StageDeclaration("a", ["b"]) },
                var t when t == typeof(IReadOnlyCollection<string>) => new[] { "lr" },
                var t when t == typeof(IReadOnlyList<EnvironmentProperty>) => new[] { new EnvironmentProperty("Stage", "STAGE", "dev") },
                var t => throw new InvalidOperationException($"add a changed value for {p.Name} ({t.Name})"),
            };
            var changed = Request();
            p.SetValue(changed, other);
            Assert.True(NoOpCertificate.KeyOf(changed) != baseKey, p.Name);
        }
        Assert.NotEqual(baseKey, NoOpCertificate.KeyOf(Request(), "stage-names"));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData(" off ")]
    [InlineData("0")]
    [InlineData("VERIFY")]
    [InlineData("on")]
    [InlineData("yes")]
    public void TheSettingsKdGatReads_AreNoWarning(string? value) => Assert.Null(NoOpCertificate.SettingWarning(value, "/r/pipeline.proj"));

    /// <summary>Every no word turns certificates off, every yes word leaves them on without a warning: the words every yes/no setting reads.</summary>
    [Theory]
    [InlineData("off", true)]
    [InlineData("OFF", true)]
    [InlineData(" No ", true)]
    [InlineData("FALSE", true)]
    [InlineData("0", true)]
    [InlineData("ON", false)]
    [InlineData("True", false)]
    [InlineData("1", false)]
    [InlineData("verify", false)]
    [InlineData(null, false)]
    public void TheYesNoWords_InAnyCase_TurnCertificatesOffOrOn(string? value, bool off)
    {
        Assert.Equal(off, NoOpCertificate.Off(value));
        Assert.Null(NoOpCertificate.SettingWarning(value, "/r/pipeline.proj"));
    }

    [Theory]
    [InlineData("of")]
    [InlineData("disable")]
    [InlineData("verfy")]
    public void AnyOtherSetting_IsKdg1220AtThePipeline(string value)
    {
        var w = NoOpCertificate.SettingWarning(value, "/r/pipeline.proj");

        Assert.NotNull(w);
        Assert.Equal(KdGat.Core.Diagnostics.ErrorCodes.NoOpSettingUnknown, w.Code);
        Assert.Equal(KdGat.Core.Diagnostics.Severity.Warning, w.Severity);
        Assert.Equal("/r/pipeline.proj", w.File);
        Assert.Contains($"KDGAT_NOOP_CERTIFICATE={value} ", w.Message);
    }
}
