using KdGat.Core.Config;
using KdGat.Core.Diagnostics;
using KdGat.Core.Hashing;
using KdGat.Core.Manifests;
using KdGat.Core.Pipeline;
using KdGat.Core.Planning;
using KdGat.Core.Tests.Support;

namespace KdGat.Core.Tests.Planning;

[Trait("Category", "Unit")]
public sealed class PlannerTests : IDisposable
{
    private static string Yaml(string lr = "0.001", string command = "train --epochs {params.epochs} --out {run_dir}") => $"""
        datasets: [d1]
        paths:
          runs: runs
          raw: raw/{"{dataset}"}
        defaults:
          code: ['code/**/*.py']
          env: [KDG_TEST_SEED]
        stages:
          a:
            command: '{command}'
            inputs: ['{"{raw_dir}"}']
            params: {"{"} lr: {lr}, epochs: 3 {"}"}
            outputs: [model.ckpt, logs_dir]
        """;

    private readonly TestPipeline _p = new(Yaml(), "d1");
    private readonly Dictionary<string, string?> _env = new() { ["KDG_TEST_SEED"] = "1" };
    private static readonly StageDeclaration[] A = [new("a", [])];
    private static readonly IReadOnlyDictionary<string, string> NoUpstream = new Dictionary<string, string>();

    public PlannerTests() => _p.Dir.Write("code/train.py", "print('v1')\n");

    public void Dispose() => _p.Dispose();

    private StageInstance Instance() => _p.Instances(A).Single();

    private Planner Checker() => new(new Fingerprinter(new PathHasher(new HashCache()), n => _env.GetValueOrDefault(n)));

    /// <summary>What a successful run leaves: the outputs, then a manifest for the current fingerprint.</summary>
    private StageManifest SimulateRun(StageInstance s)
    {
        var fp = new Fingerprinter(new PathHasher(new HashCache()), n => _env.GetValueOrDefault(n));
        var components = fp.Compute(s, NoUpstream);
        Directory.CreateDirectory(s.RunDir);
        File.WriteAllText(s.Outputs[0], "weights");
        Directory.CreateDirectory(s.Outputs[1]);
        File.WriteAllText(Path.Combine(s.Outputs[1], "epoch1.json"), "{}");
        var (present, missing) = fp.HashOutputs(s);
        Assert.Empty(missing);
        var m = new StageManifest
        {
            Stage = s.Name,
            Dataset = s.Dataset,
            Fingerprint = components.Digest(),
            Components = components,
            Outputs = present,
            OutputsDigest = Fingerprinter.OutputsDigest(present, null),
            BuildId = "test",
            Executor = "test",
        };
        ManifestStore.Write(s.ManifestPath, m);
        return m;
    }

    private Verdict Check(StageInstance? s = null, Action<string>? warn = null) => Checker().Check(s ?? Instance(), NoUpstream, warn);

    private static string Kinds(Verdict v) => string.Join(",", v.Reasons.Select(r => r.Kind));

    /// <summary>A long command's change is shown as the changed part with a few characters around it; a short one whole.</summary>
    [Fact]
    public void Change_LongCommands_ShowTheChangedPartInContext_ShortOnesWhole()
    {
        var head = "dotnet <tools program .NET 10.0.12:";
        var tail = ">/KdGat.Sample.dll preprocess --raw " + new string('r', 300) + " --out graphs.json";
        var change = Planner.Change(head + "b59a01" + tail, head + "c71e02" + tail);

        Assert.Equal("…ls program .NET 10.0.12:b59a01>/KdGat.Sample.dll prepr… -> …ls program .NET 10.0.12:c71e02>/KdGat.Sample.dll prepr…", change);
        Assert.Equal("train --lr 1 -> train --lr 2", Planner.Change("train --lr 1", "train --lr 2"));
        Assert.Equal("module load cuda\\ntrain -> train", Planner.Change("module load cuda\ntrain", "train")); // a setup line removed: one line
        Assert.Equal("parameter notes added (a\\nb)", Assert.Single(Planner.Diff(Components(), Components(("notes", "a\nb")))).Text); // a block scalar: one line too
    }

    /// <summary>Commands that differ only in the tools program's identity say so: the reason was a cut-off "…ls program .NET 10.0.12:b59a…" (a review).</summary>
    [Fact]
    public void Diff_ACommandWhoseToolsProgramAloneChanged_SaysSo_AnotherProgramIsACommandChange()
    {
        static FingerprintComponents Run(string command) => Components() with { Command = command };
        const string before = "dotnet <tools program .NET 10.0.12:b59a01>/KdGat.Sample.dll preprocess --out graphs.json";

        Assert.Equal("the tools program its command runs changed (KdGat.Sample.dll: rebuilt from changed sources, or another .NET runtime)",
            Assert.Single(Planner.Diff(Run(before), Run(before.Replace("b59a01", "c71e02")))).Text);
        Assert.StartsWith("command changed (", Assert.Single(Planner.Diff(Run(before), Run(before.Replace("b59a01>/KdGat.Sample.dll", "c71e02>/Other.dll")))).Text);
        Assert.StartsWith("command changed (", Assert.Single(Planner.Diff(Run(before), Run(before.Replace("b59a01", "c71e02").Replace("graphs", "g")))).Text);
    }

    /// <summary>A huge parameter value is shown cut, with its length: a 900 KB value made a reason line of thousands of characters.</summary>
    [Fact]
    public void Diff_HugeParameterValues_AreShownCut()
    {
        var huge = new string('x', 900_000);

        var changed = Assert.Single(Planner.Diff(Components(("notes", huge)), Components(("notes", huge + "y")))).Text;
        var added = Assert.Single(Planner.Diff(Components(), Components(("notes", huge)))).Text;
        var whole = Assert.Single(Planner.Diff(Components(("notes", "a" + huge)), Components(("notes", "b" + huge)))).Text;

        Assert.True(changed.Length < 400, changed);
        Assert.True(added.Length < 400, added);
        Assert.Contains("(900,000 characters)", added);
        Assert.True(whole.Length < 700, whole);
        Assert.StartsWith("parameter notes changed (axxx", whole);
        Assert.Equal("parameter lr changed (1 -> 2)", Assert.Single(Planner.Diff(Components(("lr", "1")), Components(("lr", "2")))).Text);
    }

    [Fact]
    public void Check_NoManifest_IsNeverRun()
    {
        var v = Check();

        Assert.False(v.UpToDate);
        Assert.Equal("never-run", Kinds(v));
        Assert.Null(v.Previous);
    }

    [Fact]
    public void Check_NothingChanged_IsUpToDate()
    {
        var m = SimulateRun(Instance());

        var v = Check();

        Assert.True(v.UpToDate, string.Join("; ", v.Reasons));
        Assert.Equal(m.Fingerprint, v.Fingerprint);
        Assert.Equal(m.OutputsDigest, v.Previous!.OutputsDigest);
    }

    [Fact]
    public void Check_OnlyMtimesChanged_IsUpToDate()
    {
        var s = Instance();
        SimulateRun(s);
        var past = new DateTime(1990, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        var future = DateTime.UtcNow.AddYears(3);

        File.SetLastWriteTimeUtc(s.Outputs[0], past);
        File.SetLastWriteTimeUtc(Path.Combine(s.Outputs[1], "epoch1.json"), future);
        File.SetLastWriteTimeUtc(s.ManifestPath, past);
        File.SetLastWriteTimeUtc(_p.Dir["raw/d1/frames.csv"], future);
        File.SetLastWriteTimeUtc(_p.Dir["code/train.py"], future);

        Assert.True(Check().UpToDate);
    }

    [Fact]
    public void Check_ParamChanged_ReasonNamesOldAndNewValue()
    {
        SimulateRun(Instance());
        _p.WriteConfig(Yaml(lr: "0.002"));

        var v = Check();

        Assert.False(v.UpToDate);
        var r = Assert.Single(v.Reasons);
        Assert.Equal("param", r.Kind);
        Assert.Equal("parameter lr changed (0.001 -> 0.002) in kdgat.yaml(12,15)", r.Text); // where the value is written
    }

    /// <summary>
    /// Two whole numbers beyond 64 bits that one double rounds alike: the second was up to date over
    /// the first's result (both were 1.8446744073709552E+19; a hostile-input review).
    /// </summary>
    [Fact]
    public void Check_AHugeWholeNumberChangedInItsLastDigit_IsStale()
    {
        _p.WriteConfig(Yaml(lr: "18446744073709551615"));
        SimulateRun(Instance());
        _p.WriteConfig(Yaml(lr: "18446744073709551614"));

        var v = Check();

        Assert.False(v.UpToDate);
        Assert.StartsWith("parameter lr changed (18446744073709551615 -> 18446744073709551614)", Assert.Single(v.Reasons).Text);
    }

    /// <summary>
    /// Quoting a value changes its JSON type in params.json ("0.001" against 0.001), so what the stage
    /// reads: the fingerprint must see it (it recorded the text alone, and a quoted number stayed up
    /// to date over a params.json the from-scratch build wrote differently).
    /// </summary>
    [Theory]
    [InlineData("0.001", "'0.001'", "parameter lr changed (0.001 -> '0.001')")]
    [InlineData("'0.001'", "0.001", "parameter lr changed ('0.001' -> 0.001)")]
    [InlineData("true", "'true'", "parameter lr changed (true -> 'true')")]
    [InlineData("[1, 2]", "'[1,2]'", "parameter lr changed ([1,2] -> '[1,2]')")]
    [InlineData("'null'", "null", "parameter lr changed (null -> null (null))")]
    [InlineData("''", "", "parameter lr changed ( ->  (null))")]
    public void Check_ValueQuotedOrUnquoted_IsStale_NamingTheKind(string before, string after, string reason)
    {
        _p.WriteConfig(Yaml(lr: before));
        SimulateRun(Instance());
        _p.WriteConfig(Yaml(lr: after));

        var v = Check();

        Assert.False(v.UpToDate);
        Assert.StartsWith(reason, Assert.Single(v.Reasons).Text);
    }

    /// <summary>Values whose text reads as their own kind are recorded as the text alone, as before: manifests of earlier versions stay current.</summary>
    [Theory]
    [InlineData("0.001", ParamKind.Float)]
    [InlineData("3", ParamKind.Integer)]
    [InlineData("true", ParamKind.Bool)]
    [InlineData("[1,2]", ParamKind.Json)]
    [InlineData("adam", ParamKind.String)]
    [InlineData("+1", ParamKind.String)]
    [InlineData("NaN", ParamKind.String)]
    [InlineData("[1]\n", ParamKind.String)] // a block scalar starting with '['
    [InlineData("[", ParamKind.String)]
    public void FingerprintText_OfAValueOfItsTextsOwnKind_IsTheText(string text, ParamKind kind) =>
        Assert.Equal(text, new ParamValue(text, kind).FingerprintText);

    [Theory]
    [InlineData("50", ParamKind.String, "50", ParamKind.Integer)]
    [InlineData("true", ParamKind.String, "true", ParamKind.Bool)]
    [InlineData("[1,2]", ParamKind.String, "[1,2]", ParamKind.Json)]
    [InlineData("\u0001string:50", ParamKind.String, "50", ParamKind.String)] // a text that looks tagged is tagged itself
    public void FingerprintText_OfAValueItsTextWouldNotReadAs_NamesTheKind(string text, ParamKind kind, string otherText, ParamKind otherKind)
    {
        Assert.NotEqual(text, new ParamValue(text, kind).FingerprintText);
        Assert.NotEqual(new ParamValue(otherText, otherKind).FingerprintText, new ParamValue(text, kind).FingerprintText);
    }

    [Fact]
    public void Check_ParamWrittenDifferentlyButSameText_IsUpToDate()
    {
        // Flow and block style of the same mapping give the same parameters.
        SimulateRun(Instance());
        _p.WriteConfig(Yaml().Replace("params: { lr: 0.001, epochs: 3 }", "params:\n      epochs: 3\n      lr: 0.001"));

        Assert.True(Check().UpToDate);
    }

    [Fact]
    public void Check_CommandChanged_IsStaleWithCommandReason()
    {
        SimulateRun(Instance());
        _p.WriteConfig(Yaml(command: "train --epochs {params.epochs} --fast --out {run_dir}"));

        var v = Check();

        Assert.Equal("command", Kinds(v));
        Assert.Contains("--fast", v.Reasons[0].Text);
    }

    [Fact]
    public void Check_InputContentChanged_IsStale()
    {
        SimulateRun(Instance());
        File.AppendAllText(_p.Dir["raw/d1/frames.csv"], "one more frame\n");

        var v = Check();

        Assert.Equal("input", Kinds(v));
        Assert.Equal("input file changed (raw/d1)", v.Reasons[0].Text);
    }

    [Fact]
    public void Check_InputMissing_ThrowsKdg3006()
    {
        SimulateRun(Instance());
        Directory.Delete(_p.Dir["raw/d1"], recursive: true);

        var e = Assert.Throws<KdgException>(() => Check());

        Assert.Equal(ErrorCodes.InputMissing, e.Code);
        Assert.Contains("raw/d1", e.Message);
        // At the input's entry ("    inputs: ['{raw_dir}']", line 11), where the fix goes, not at "  a:".
        Assert.Equal((_p.ConfigFile, 11, "    inputs: [".Length + 1), (e.File, e.Line, e.Column));
    }

    [Fact]
    public void Check_CodeFileChangedOrAdded_IsStale()
    {
        SimulateRun(Instance());
        File.WriteAllText(_p.Dir["code/train.py"], "print('v2')\n");
        _p.Dir.Write("code/pkg/util.py", "x = 1\n");

        var v = Check();

        Assert.Equal(["code file added (code/pkg/util.py)", "code file changed (code/train.py)"], v.Reasons.Select(r => r.Text).Order());
    }

    /// <summary>A code file gone from the fingerprint was "removed" although still there, its pattern narrowed (a first-contact review).</summary>
    [Fact]
    public void Check_CodeFileDeleted_SaysDeletedOrNoLongerMatched()
    {
        _p.Dir.Write("code/pkg/util.py", "x = 1\n");
        SimulateRun(Instance());
        File.Delete(_p.Dir["code/pkg/util.py"]);

        var v = Check();

        Assert.Equal("code file deleted, or no longer matched by the stage's code: patterns (code/pkg/util.py)", Assert.Single(v.Reasons).Text);
    }

    [Fact]
    public void Check_DeclaredEnvChanged_IsStaleWithoutShowingTheValue()
    {
        SimulateRun(Instance());
        _env["KDG_TEST_SEED"] = "secret-2";

        var v = Check();

        var r = Assert.Single(v.Reasons);
        Assert.Equal("env", r.Kind);
        Assert.DoesNotContain("secret", r.Text);
        Assert.DoesNotContain("secret", v.Current.Digest() + string.Join("", v.Current.Env.Values));
    }

    [Fact]
    public void Check_OutputModified_IsStale()
    {
        var s = Instance();
        SimulateRun(s);
        File.WriteAllText(s.Outputs[0], "tampered");

        var v = Check();

        Assert.Equal("output-modified", Kinds(v));
        Assert.Equal("output modified: runs/d1/a/model.ckpt", v.Reasons[0].Text);
    }

    [Fact]
    public void Check_FileAddedToOutputDirectory_IsStale()
    {
        var s = Instance();
        SimulateRun(s);
        File.WriteAllText(Path.Combine(s.Outputs[1], "stray.json"), "{}");

        Assert.Equal("output-modified", Kinds(Check()));
    }

    [Fact]
    public void Check_OutputMissing_IsStale()
    {
        var s = Instance();
        SimulateRun(s);
        File.Delete(s.Outputs[0]);

        var v = Check();

        Assert.Equal("output-missing", Kinds(v));
        Assert.Equal("output missing: runs/d1/a/model.ckpt", v.Reasons[0].Text);
    }

    /// <summary>An output dropped from outputs: was said to be missing while it was there (a first-contact review).</summary>
    [Fact]
    public void Check_AnOutputNoLongerDeclared_IsSaidSo_NotMissing()
    {
        SimulateRun(Instance());
        _p.WriteConfig(Yaml().Replace("outputs: [model.ckpt, logs_dir]", "outputs: [model.ckpt]", StringComparison.Ordinal));

        var v = Check();

        Assert.False(v.UpToDate);
        Assert.Contains(v.Reasons, r => r.Kind == "output-undeclared" && r.Text.StartsWith("output no longer declared: runs/d1/a/logs_dir", StringComparison.Ordinal));
        Assert.DoesNotContain(v.Reasons, r => r.Text.Contains("output missing", StringComparison.Ordinal));
    }

    [Fact]
    public void Check_OutputRewrittenWithSameContent_IsUpToDate()
    {
        var s = Instance();
        SimulateRun(s);
        File.Delete(s.Outputs[0]);
        File.WriteAllText(s.Outputs[0], "weights");

        Assert.True(Check().UpToDate);
    }

    [Theory]
    [InlineData("{ not json")]
    [InlineData("")]
    [InlineData("{\"schema\": 1}")]
    [InlineData("{\"schema\": 2, \"fingerprint\": \"x\", \"outputs\": [], \"components\": {}}")]
    [InlineData("[1, 2, 3]")]
    public void Check_CorruptManifest_IsStaleAndWarnedNeverUpToDate(string content)
    {
        var s = Instance();
        SimulateRun(s);
        File.WriteAllText(s.ManifestPath, content);
        var warnings = new List<string>();

        var v = Check(s, warnings.Add);

        Assert.False(v.UpToDate);
        Assert.Equal("manifest-corrupt", Kinds(v));
        Assert.Null(v.Previous);
        Assert.Single(warnings);
    }

    [Fact]
    public void Check_ManifestFromOtherFingerprintFormat_IsStale()
    {
        var s = Instance();
        var m = SimulateRun(s);
        ManifestStore.Write(s.ManifestPath, m with { Fingerprint = "0123" });

        var v = Check();

        Assert.Equal("fingerprint", Kinds(v));
    }

    [Fact]
    public void Check_UpstreamDigestChanged_IsStale()
    {
        using var p = new TestPipeline(KdGatGraph.Yaml(), "d1");
        var s = p.Instances(KdGatGraph.Stages).Single(i => i.Name == "gat_large_curriculum");
        var fp = new Fingerprinter(new PathHasher(new HashCache()));
        var before = fp.Compute(s, new Dictionary<string, string> { ["vgae_large_autoencoder"] = "aaaa", ["preprocess"] = "pppp" });
        var after = fp.Compute(s, new Dictionary<string, string> { ["vgae_large_autoencoder"] = "bbbb", ["preprocess"] = "pppp" });

        var reasons = Planner.Diff(before, after).ToArray();

        Assert.Equal("upstream vgae_large_autoencoder output changed", Assert.Single(reasons).Text);
        Assert.NotEqual(before.Digest(), after.Digest());
    }

    [Fact]
    public void Diff_ParamsAddedAndRemoved_ShowValues()
    {
        var old = Components(("lr", "0.1"), ("dropout", "0.5"));
        var now = Components(("lr", "0.1"), ("heads", "4"));

        var texts = Planner.Diff(old, now).Select(r => r.Text).ToArray();

        Assert.Equal(["parameter heads added (4)", "parameter dropout removed (was 0.5)"], texts);
    }

    private static FingerprintComponents Components(params (string K, string V)[] ps) => new()
    {
        Command = "c",
        Params = new SortedDictionary<string, string>(ps.ToDictionary(p => p.K, p => p.V), StringComparer.Ordinal),
        Inputs = new(StringComparer.Ordinal),
        Code = new(StringComparer.Ordinal),
        Upstream = new(StringComparer.Ordinal),
        Env = new(StringComparer.Ordinal),
    };

    [Fact]
    public void Fingerprint_IsIndependentOfTheRootDirectory()
    {
        // Paths enter the fingerprint root-relative, so a clone elsewhere agrees.
        var here = new Fingerprinter(new PathHasher(new HashCache()), n => _env.GetValueOrDefault(n)).Compute(Instance(), NoUpstream);
        using var other = new TestPipeline(Yaml(), "d1");
        other.Dir.Write("code/train.py", "print('v1')\n");
        var there = new Fingerprinter(new PathHasher(new HashCache()), n => _env.GetValueOrDefault(n)).Compute(other.Instances(A).Single(), NoUpstream);

        Assert.NotEqual(_p.Root, other.Root);
        Assert.Equal(here.Digest(), there.Digest());
    }
}
