using KdGat.Core.Engine;
using KdGat.Testing;
using Xunit;

namespace KdGat.EndToEnd.Tests;

/// <summary>Every user mistake: a KDG code, the file or stage named, no stack trace, nothing lost.</summary>
[Trait("Category", "EndToEnd")]
public sealed class BadInputTests
{
    private static void AssertUserError(ProcessResult r, string code, params string[] mentions)
    {
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains($"error {code}", r.Output);
        foreach (var m in mentions) Assert.Contains(m, r.Output);
        Assert.DoesNotContain("   at ", r.Output);          // no stack trace
        Assert.DoesNotContain("Exception", r.Output);
        // At the user's project or file, never at a line of KdGat's own targets (where MSBuild puts what has no file).
        Assert.DoesNotMatch(@"KdGat\.\w+\.targets\(", r.Output);
    }

    [Fact]
    public void MalformedYaml_NamesFileAndLine()
    {
        using var s = Sandbox.Trivial();
        s.EditConfig(c => c.Replace("datasets: [hcrl_sa,", "datasets: [hcrl_sa"  + "\n  : :"));
        AssertUserError(s.Build("-p:Dataset=hcrl_sa"), "KDG1002", "kdgat.yaml");
    }

    /// <summary>
    /// A stage added to kdgat.yaml alone (as a Snakemake rule is added to its one file) was silently
    /// never run (found by review): it is a warning at its entry, and -p:Stage of it says why.
    /// </summary>
    [Fact]
    public void AStageInTheConfigWithoutATarget_IsKdg1012_AndRunStageSaysWhy()
    {
        using var s = Sandbox.Trivial();
        s.EditConfig(c => c.Replace("  eval_small_evaluation:\n", "  report:\n    command: 'echo hi > out.txt'\n    outputs: [out.txt]\n  eval_small_evaluation:\n"));

        var build = s.Build("-p:Dataset=hcrl_sa");

        Assert.Equal(0, build.ExitCode);
        Assert.Matches(@"kdgat\.yaml\(\d+,\d+\): warning KDG1012: stage 'report' is under 'stages:' but no stage target that pipeline\.proj's AllStagesDependsOn reaches \(by default EvaluateDependsOn\) declares it", build.Output);
        var run = s.Build("-t:RunStage", "-p:Stage=report", "-p:Dataset=hcrl_sa");
        AssertUserError(run, "KDG1203", "'report' is under 'stages:'", "KDG1012");
        // Explain lists the stages a build runs, and says which one it does not (it said nothing; a first-contact review).
        var explain = s.Build("-t:Explain", "-p:Dataset=hcrl_sa");
        Assert.Equal(0, explain.ExitCode);
        Assert.Single(explain.Output.Split('\n').Where(l => l.Contains("warning KDG1012: stage 'report'", StringComparison.Ordinal)).Select(l => l.Trim()).Distinct());
    }

    /// <summary>
    /// -p:Dataset=@(x): MSBuild expanded the item list to nothing before the task saw it, and an empty
    /// selection is every dataset, so Clean removed every result (a review). Refused first, removes nothing.
    /// </summary>
    [Theory]
    [InlineData("-p:Dataset=@(x)", "KDG1101")]
    [InlineData("-p:Dataset=%(x)", "KDG1101")]
    [InlineData("-p:Stage=@(x)", "KDG1203")]
    [InlineData("-p:Sweep=@(x)", "KDG1033")]
    public void ASelectionMSBuildWouldExpandToNothing_IsRefused_AndCleanRemovesNothing(string property, string code)
    {
        using var s = Sandbox.Trivial();
        Assert.Equal(0, s.Build("-p:Dataset=hcrl_sa").ExitCode);
        string[] Results() => Directory.GetFiles(Path.Combine(s.Dir, "experimentruns"), "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToArray();
        var before = Results();

        var r = s.Build(["-t:Clean", property, .. property.StartsWith("-p:Dataset", StringComparison.Ordinal) ? Array.Empty<string>() : ["-p:Dataset=hcrl_sa"]]);

        AssertUserError(r, code, "expands before KdGat sees the value");
        Assert.Equal(before, Results());
    }

    /// <summary>
    /// -p:ReportFile=kdgat.yaml replaced the configuration with the HTML report (a review; the same
    /// for -p:GraphFile, see ReplaceableFileTests). A file KdGat did not write is refused, kept as it was.
    /// </summary>
    [Theory]
    [InlineData("-t:Report", "KDG5013")]
    [InlineData("-t:Evaluate", "KDG4021")]
    public void AReportFileNamingTheConfiguration_IsRefused_AndTheConfigurationKept(string target, string code)
    {
        using var s = Sandbox.Trivial();
        var before = File.ReadAllText(s.Config);

        var r = s.Build(target, "-p:Dataset=hcrl_sa", "-p:ReportFile=kdgat.yaml");

        AssertUserError(r, code, "a file KdGat did not write");
        Assert.Equal(before, File.ReadAllText(s.Config));
    }

    /// <summary>A directory at the default report path was KDG9001 (a NullReferenceException) in every build, Status and Report (an edge review).</summary>
    [Theory]
    [InlineData("-t:Evaluate", "KDG4021")]
    [InlineData("-t:Status", "KDG4021")] // its page is the live report's
    [InlineData("-t:Report", "KDG5013")]
    public void ADirectoryAtTheDefaultReportPath_IsACodedErrorNamingIt(string target, string code)
    {
        using var s = Sandbox.Trivial();
        Directory.CreateDirectory(Path.Combine(s.Dir, ".kdgat", "report.html"));

        var r = s.Build(target, "-p:Dataset=hcrl_sa");

        AssertUserError(r, code, "(the default report file) is a directory");
    }

    /// <summary>
    /// Clean with a selection KdGat refuses said its error twice: once as a warning of the run index
    /// update before it (ContinueOnError), then as Clean's error. Once, as the error; nothing removed.
    /// </summary>
    [Theory]
    [InlineData("-p:Sweep=bogus=1", "KDG1033")]
    public void CleanWithARefusedSelection_SaysItsErrorOnce_AndRemovesNothing(string property, string code)
    {
        using var s = Sandbox.Trivial();
        Assert.Equal(0, s.Build("-p:Dataset=hcrl_sa").ExitCode);
        string[] Results() => Directory.GetFiles(Path.Combine(s.Dir, "experimentruns"), "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToArray();
        var before = Results();

        var r = s.Build(["-t:Clean", property, .. property.StartsWith("-p:Dataset", StringComparison.Ordinal) ? Array.Empty<string>() : ["-p:Dataset=hcrl_sa"]]);

        AssertUserError(r, code);
        Assert.Single(r.Output.Split('\n').Where(l => l.Contains(code, StringComparison.Ordinal)).Select(l => l.Trim()).Distinct());
        Assert.Equal(before, Results());
    }

    /// <summary>
    /// A clone at a path holding '@(': MSB4012 in KdGat's targets, and the tasks were looked for in another
    /// folder, which the path without '@(y)' names (a review). One KDG1219 before anything runs.
    /// </summary>
    [Fact]
    public void APipelineAtAPathHoldingAnItemList_IsKdg1219_BeforeAnythingRuns()
    {
        using var s = Sandbox.Trivial();
        var odd = Path.Combine(s.Dir, "at@(y)");
        Directory.CreateDirectory(odd);
        Assert.Equal(0, ProcessRunner.Run("cp", ["-r", "pipeline.proj", "kdgat.yaml", "Directory.Build.rsp", "targets", "models", odd], s.Dir, TimeSpan.FromMinutes(1)).ExitCode);

        var r = ProcessRunner.Run("dotnet", s.MSBuildArgs(["-p:Dataset=hcrl_sa"]), odd, TimeSpan.FromMinutes(2), s.Env);

        AssertUserError(r, "KDG1219", "path holds '@(' or '%('");
        Assert.DoesNotMatch(@"MSB\d{4}", r.Output);
        Assert.False(Directory.Exists(Path.Combine(odd, "experimentruns")));
    }

    /// <summary>A value echoed back holding an escape sequence reached the terminal raw, recolouring it (a review): it is written out.</summary>
    [Fact]
    public void AControlCharacterInAnEchoedValue_IsWrittenOut()
    {
        using var s = Sandbox.Trivial();

        var r = s.Build("-p:Dataset=\u001b[31mred");

        AssertUserError(r, "KDG1101", "\\x1b[31mred");
        Assert.DoesNotContain('\u001b', r.Output);
    }

    /// <summary>A huge value echoed back in an error is cut in the middle: the line stays readable and keeps its fix (a 500,000-character dataset name was printed whole, found by review).</summary>
    [Fact]
    public void AHugeValueInAnError_IsCutInTheMiddle_KeepingTheFix()
    {
        using var s = Sandbox.Trivial();

        var r = s.Build("-p:Dataset=" + new string('x', 20_000) + "/");

        AssertUserError(r, "KDG1101", "characters left out", "Use 1-64 letters");
        Assert.All(r.Output.Split('\n'), line => Assert.True(line.Length < 5_000, $"a line of {line.Length} characters"));
    }

    [Fact]
    public void UnknownConfigKey_SuggestsTheRightOne()
    {
        using var s = Sandbox.Trivial();
        s.EditConfig(c => c.Replace("    params: { window: 50, stride: 25 }", "    parms: { window: 50, stride: 25 }"));
        AssertUserError(s.Build("-p:Dataset=hcrl_sa"), "KDG1003", "kdgat.yaml", "parms", "params");
    }

    [Theory]
    [InlineData("../x", "KDG1101")]
    [InlineData("a/b", "KDG1101")]
    [InlineData("$(touch pwned)", "KDG1101")]
    [InlineData("set_99", "KDG1102")]
    public void BadDatasetName_IsRejectedBeforeAnythingRuns(string dataset, string code)
    {
        using var s = Sandbox.Trivial();
        AssertUserError(s.Build($"-p:Dataset={dataset}"), code);
        Assert.False(Directory.Exists(Path.Combine(s.Dir, "experimentruns")));
        Assert.False(File.Exists(Path.Combine(s.Dir, "pwned")));
    }

    [Fact]
    public void ShellInDatasetList_RunsNothing()
    {
        using var s = Sandbox.Trivial();
        var victim = Path.Combine(s.Dir, "victim");
        File.WriteAllText(victim, "keep");
        // MSBuild hands the whole quoted value over; KdGat splits it into names and rejects "rm".
        AssertUserError(s.Build("-p:Dataset=\"hcrl_sa;rm -f victim\""), "KDG1102", "'rm'");
        Assert.True(File.Exists(victim));
        Assert.False(Directory.Exists(Path.Combine(s.Dir, "experimentruns")));
    }

    [Theory]
    [InlineData("hcrl sa")]
    [InlineData("a;rm -rf /")]
    [InlineData("../x")]
    public void BadDatasetNameInConfig_NamesFileAndName(string name)
    {
        using var s = Sandbox.Trivial();
        s.EditConfig(c => c.Replace("datasets: [hcrl_sa,", $"datasets: ['{name}', hcrl_sa,"));
        AssertUserError(s.Build("-p:Dataset=hcrl_sa"), "KDG1101", "kdgat.yaml", name);
        Assert.False(Directory.Exists(Path.Combine(s.Dir, "experimentruns")));
    }

    [Fact]
    public void MissingRawData_WithoutGenerator_SaysWhereItLooked()
    {
        using var s = Sandbox.Trivial();
        s.EditConfig(c => string.Join('\n', c.Split('\n').Where(l => !l.StartsWith("generator:"))));
        var r = s.Build("-p:Dataset=hcrl_sa");
        AssertUserError(r, "KDG1103", "hcrl_sa", "data/automotive/hcrl_sa");
        // At the paths.raw value (user review: the file alone before).
        var lines = File.ReadAllLines(s.Config);
        var line = Array.FindIndex(lines, l => l.StartsWith("  raw:", StringComparison.Ordinal)) + 1;
        Assert.Contains($"kdgat.yaml({line},8): error KDG1103", r.Output);
    }

    /// <summary>A stage item whose name kdgat.yaml does not have (a misspelling on either side): KDG1006 at that KdGatStage item in pipeline.proj.</summary>
    [Fact]
    public void StageItemWithoutConfigEntry_IsKdg1006AtTheItem()
    {
        using var s = Sandbox.Trivial();
        s.EditConfig(c => c.Replace("\n  eval_small_evaluation:", "\n  eval_small_evalution:", StringComparison.Ordinal));
        var r = s.Build("-p:Dataset=hcrl_sa");
        AssertUserError(r, "KDG1006", "eval_small_evaluation", "Did you mean 'eval_small_evalution'?");
        var lines = File.ReadAllLines(Path.Combine(s.Dir, "pipeline.proj"));
        var line = Array.FindIndex(lines, l => l.Contains("<KdGatStage Include=\"eval_small_evaluation\"", StringComparison.Ordinal)) + 1;
        var column = lines[line - 1].IndexOf("<KdGatStage", StringComparison.Ordinal) + 1;
        Assert.Contains($"pipeline.proj({line},{column}): error KDG1006", r.Output);
        Assert.False(Directory.Exists(Path.Combine(s.Dir, "experimentruns")), "a stage ran:\n" + r.Output);
    }

    /// <summary>
    /// A KdGatVariant item written after the Import of KdGat's targets, with the name of a default
    /// one, is KDG5022 for Compare and Report; Status, whose table does not depend on variants, says
    /// it as a warning, writes the report with the error in place of its metrics, and succeeds: it
    /// failed, and a CI step gating on Status failed with it.
    /// </summary>
    [Fact]
    public void ADuplicateVariant_FailsCompare_AndIsAWarningInStatus()
    {
        using var s = Sandbox.Trivial();
        var project = Path.Combine(s.Dir, "pipeline.proj");
        File.WriteAllText(project, File.ReadAllText(project).Replace("</Project>",
            "  <ItemGroup><KdGatVariant Include=\"large\" Stages=\"eval_small_evaluation\" /></ItemGroup>\n</Project>"));
        Assert.Equal(0, s.Build("-t:Evaluate", "-p:Dataset=hcrl_sa").ExitCode);

        var report = Path.Combine(s.Dir, ".kdgat", "report.html");
        File.Delete(report);
        var status = s.Build("-t:Status", "-p:Dataset=hcrl_sa");
        Assert.True(status.ExitCode == 0, status.ToString());
        Assert.Contains("warning KDG5022", status.Output);
        Assert.Contains("KDG5022", File.ReadAllText(report)); // the page is written, the error in place of its metrics
        Assert.Matches(@"hcrl_sa/eval_large_evaluation\s+up-to-date", status.Output);
        AssertUserError(s.Build("-t:Compare", "-p:Dataset=hcrl_sa"), "KDG5022", "'large'");
    }

    /// <summary>
    /// STAGE=dev in the shell is MSBuild's property Stage: KDG1203 blamed a -p:Stage never passed (the
    /// rvswitches review). It names the variable; a stage the variable names is used, with KDG1225, by a
    /// build and by the no-op its certificate answers; -p:Stage= (empty) wins over the variable. A value a
    /// task parses (Wait) names its variable too.
    /// </summary>
    [Fact]
    public void AStageFromTheEnvironment_IsNamedAsThatVariable()
    {
        using var s = Sandbox.Trivial();
        s.Env["STAGE"] = "dev";
        AssertUserError(s.Build("-t:Explain", "-p:Dataset=hcrl_sa"), "KDG1203", "unknown stage 'dev' in the environment variable STAGE (MSBuild makes it the property Stage; no -p:Stage was given)");
        var empty = s.Build("-t:Explain", "-p:Dataset=hcrl_sa", "-p:Stage=");
        Assert.True(empty.ExitCode == 0, empty.ToString());
        Assert.DoesNotContain("KDG1225", empty.Output);

        s.Env["STAGE"] = "preprocess";
        // Each said once per build (without MSBuild's summary, which repeats warnings): the index step after a stage ran
        // said DATASET's again (the index task is given Dataset, not Stage).
        s.Env["DATASET"] = "hcrl_sa";
        foreach (var build in new[] { s.Build("-t:RunStage", "-clp:NoSummary"), s.Build("-t:RunStage", "-clp:NoSummary") }) // the second a no-op
        {
            Assert.True(build.ExitCode == 0, build.ToString());
            Assert.Single(build.Output.Split('\n'), l => l.Contains("warning KDG1225: Stage is 'preprocess' from the environment variable STAGE", StringComparison.Ordinal));
            Assert.Single(build.Output.Split('\n'), l => l.Contains("warning KDG1225: Dataset is 'hcrl_sa' from the environment variable DATASET", StringComparison.Ordinal));
        }
        s.Env.Remove("DATASET");
        Assert.True(File.Exists(Path.Combine(s.RunDir("hcrl_sa", "preprocess"), "kdgat.manifest.json")));
        Assert.False(Directory.Exists(s.RunDir("hcrl_sa", "vgae_large_autoencoder")));
        s.Env["wait"] = "maybe"; // a value the task parses; names ignore case
        AssertUserError(s.Build("-t:RunStage", "-p:Dataset=hcrl_sa"), "KDG1205", "the environment variable wait (MSBuild makes it the property Wait; no -p:Wait was given) must be true or false");
    }

    /// <summary>
    /// The errors the targets raise before the tasks load, and the report file's, said "-p:KdGatSkipBootstrap" and so on of
    /// a value an environment variable gave (the fxmsgs brief). They name the variable as KDG1225 does; a -p: still says -p:.
    /// </summary>
    [Fact]
    public void TargetsErrors_AndTheReportFilesOnes_NameTheEnvironmentVariable()
    {
        using var s = Sandbox.Trivial();
        const string Given = "(MSBuild makes it the property {0}; no -p:{0} was given)";
        s.Env["KDGATSKIPBOOTSTRAP"] = "maybe";
        // The sandbox passes -p:KdGatSkipBootstrap=true; the check stops the build before the bootstrap would compile anything.
        var withoutSkip = ProcessRunner.Run("dotnet", ["msbuild", "pipeline.proj", "-nologo", "-v:m", $"-p:KdGatToolsDir={Tools.Path}", "-t:Explain"], s.Dir, TimeSpan.FromMinutes(5), s.Env);
        AssertUserError(withoutSkip, "KDG1205", $"the environment variable KDGATSKIPBOOTSTRAP {string.Format(Given, "KdGatSkipBootstrap")} must be true or false, not 'maybe'");
        AssertUserError(s.Build("-t:Explain", "-p:KdGatSkipBootstrap=maybe"), "KDG1205", "-p:KdGatSkipBootstrap must be true or false");
        s.Env.Remove("KDGATSKIPBOOTSTRAP");
        s.Env["kdgattoolsconfiguration"] = "Fast";
        AssertUserError(s.Build("-t:Explain"), "KDG1205", $"the environment variable kdgattoolsconfiguration {string.Format(Given, "KdGatToolsConfiguration")} must be Debug or Release");
        s.Env.Remove("kdgattoolsconfiguration");
        s.Env["DATASET"] = "@(x)";
        AssertUserError(s.Build("-t:Explain"), "KDG1101", $"the environment variable DATASET {string.Format(Given, "Dataset")} holds '@('");
        s.Env.Remove("DATASET");
        s.Env["KDGATTRACKING"] = "maybe";
        AssertUserError(s.Build("-p:Dataset=hcrl_sa"), "KDG1205", $"the environment variable KDGATTRACKING {string.Format(Given, "KdGatTracking")} must be true or false");
        s.Env.Remove("KDGATTRACKING");

        Directory.CreateDirectory(Path.Combine(s.Dir, "out"));
        s.Env["REPORTFILE"] = "out";
        AssertUserError(s.Build("-t:Report"), "KDG5013", $"the environment variable REPORTFILE {string.Format(Given, "ReportFile")}, 'out' is a directory");
        File.WriteAllText(Path.Combine(s.Dir, "mine.html"), "<p>mine</p>\n");
        s.Env["REPORTFILE"] = "mine.html";
        AssertUserError(s.Build("-p:Dataset=hcrl_sa", "-p:Stage=preprocess"), "KDG4021", $"the environment variable REPORTFILE {string.Format(Given, "ReportFile")}, 'mine.html' names");
        Assert.Equal("<p>mine</p>\n", File.ReadAllText(Path.Combine(s.Dir, "mine.html")));
    }

    /// <summary>
    /// Every property README documents as -p: counts from the environment (the fxenvrest brief): CACHEMAXSIZE (the
    /// task's parameter is MaxSize) was used without KDG1225 and its error named a -p:CacheMaxSize never passed;
    /// KDGATCONFIG and KDGATTRACKING (read by the targets, no task has them as such) were used without a word, and
    /// FAILIFSTALE's refusal named -p:FailIfStale=true. WAIT=true,
    /// the default, changes nothing and is not said. The last build is a certified no-op (the sandbox verifies it),
    /// which says the same warnings.
    /// </summary>
    [Fact]
    public void PropertiesTheTargetsRead_FromTheEnvironment_AreSaid()
    {
        using var s = Sandbox.Trivial();
        s.Env["CACHEMAXSIZE"] = "20";
        var gc = s.Build("-t:CacheGc");
        AssertUserError(gc, "KDG1205", "the environment variable CACHEMAXSIZE (MSBuild makes it the property CacheMaxSize; no -p:CacheMaxSize was given), '20' is not a size");
        Assert.Contains("warning KDG1225: CacheMaxSize is '20' from the environment variable CACHEMAXSIZE", gc.Output);
        s.Env["CACHEMAXSIZE"] = "20G";
        s.Env["FAILIFSTALE"] = "yes"; // the gate's refusal named -p:FailIfStale=true
        AssertUserError(s.Build("-t:CacheGc"), "KDG1218", "FAILIFSTALE=yes in the environment (the property FailIfStale; no -p:FailIfStale): CacheGc would");
        s.Env.Remove("CACHEMAXSIZE");
        s.Env.Remove("FAILIFSTALE");

        s.Env["KDGATCONFIG"] = Path.Combine(s.Dir, "kdgat.yaml");
        s.Env["KDGATTRACKING"] = "false";
        s.Env["WAIT"] = "true";
        string[] args = ["-t:RunStage", "-p:Dataset=hcrl_sa", "-p:Stage=preprocess"];
        // Runs, then a settled no-op that writes the certificate, then one the certificate answers.
        foreach (var build in new Func<ProcessResult>[] { () => s.Build(args), () => s.BuildSettled(args), () => s.Build(args) }.Select(b => b()))
        {
            Assert.True(build.ExitCode == 0, build.ToString());
            Assert.Contains("warning KDG1225: KdGatConfig is", build.Output);
            Assert.Contains("warning KDG1225: KdGatTracking is 'false' from the environment variable KDGATTRACKING", build.Output);
            Assert.DoesNotContain("KDG1225: Wait", build.Output);
        }
        Assert.True(s.LastBuild().NoOpCertificate == true, "the last build is the certificate's");

        s.Env["LIVEREPORTREFRESH"] = "0"; // its error named -p:LiveReportRefresh
        AssertUserError(s.Build("-t:RunStage", "-p:Dataset=hcrl_sa", "-p:Stage=preprocess"), "KDG4021",
            "the environment variable LIVEREPORTREFRESH (MSBuild makes it the property LiveReportRefresh; no -p:LiveReportRefresh was given) must be a whole number");
    }

    [Fact]
    public void UnknownStage_ListsTheKnownOnes()
    {
        using var s = Sandbox.Trivial();
        AssertUserError(s.Build("-t:RunStage", "-p:Stage=gat_huge", "-p:Dataset=hcrl_sa"), "KDG1203", "gat_huge", "gat_large_curriculum");
    }

    [Theory]
    [InlineData("-p:MaxParallelStages=abc", "MaxParallelStages")]
    [InlineData("-p:VerifyHashes=maybe", "VerifyHashes")]
    [InlineData("-p:Executor=kubernetes", "Executor")]
    [InlineData("-p:Wait=later", "Wait")]
    [InlineData("-p:KdGatTracking=maybe", "KdGatTracking")] // was accepted (a hostile-input pass)
    [InlineData("-p:KdGatSkipBootstrap=nope", "KdGatSkipBootstrap")] // these two were accepted (a README pass)
    [InlineData("-p:KdGatToolsConfiguration=Bogus", "KdGatToolsConfiguration")]
    public void BadPropertyValue_IsKdg1205NamingTheProperty(string property, string name)
    {
        using var s = Sandbox.Trivial();
        AssertUserError(s.Build(property, "-p:Dataset=hcrl_sa"), "KDG1205", name);
        Assert.False(Directory.Exists(Path.Combine(s.Dir, "experimentruns", "hcrl_sa")), "nothing may run");
    }

    /// <summary>Explain explains the build of the same -p: values: a misspelt executor was accepted there, and refused only by the build (a first-contact review).</summary>
    [Fact]
    public void AMisspeltExecutor_IsKdg1205InExplainToo()
    {
        using var s = Sandbox.Trivial();
        AssertUserError(s.Build("-t:Explain", "-p:Executor=slurmm", "-p:Dataset=hcrl_sa"), "KDG1205", "Executor");
    }

    /// <summary>
    /// A tools dir no file can be made in is one KDG1207 before anything compiles: MSBuild's Copy
    /// retried each file for over a minute and printed hundreds of MSB3026/MSB3021 lines (a user
    /// review; /proc stands for a read-only folder, which root could still write).
    /// </summary>
    [Fact]
    public void ToolsDirNoFileCanBeMadeIn_IsKdg1207BeforeCompiling()
    {
        using var s = Sandbox.Trivial();
        var r = s.Build("-p:KdGatToolsDir=/proc/kdgat-no-tools/", "-p:KdGatSkipBootstrap=false", $"-p:KdGatSourceDir={Path.Combine(Repo.Root, "src")}/", "-p:Dataset=hcrl_sa");
        AssertUserError(r, "KDG1207", "/proc/kdgat-no-tools/", "-p:KdGatToolsDir");
        Assert.DoesNotContain("MSB3026", r.Output);
        Assert.DoesNotContain("KdGat.Core ->", r.Output); // nothing compiled
    }

    [Fact]
    public void ToolsDirWithoutTheTasks_IsKdg1206_NotMSB4062()
    {
        using var s = Sandbox.Trivial();
        var empty = Path.Combine(s.Dir, "no-tools");
        Directory.CreateDirectory(empty);
        var r = s.Build($"-p:KdGatToolsDir={empty}/", "-p:Dataset=hcrl_sa");
        AssertUserError(r, "KDG1206", "no-tools", "-p:KdGatToolsDir");
        Assert.DoesNotContain("MSB4062", r.Output);
    }

    /// <summary>
    /// An empty path property means its default, as an empty -p:Executor= does: -p:KdGatConfig= was
    /// MSBuild's MSB4044 (a task without its required ConfigFile), -p:KdGatSourceDir= MSB4184
    /// (GetFullPath('')), found by a bad-input review. The sandbox's own -p:KdGatToolsDir comes first on
    /// the command line, so the empty one below replaces it (the last value wins).
    /// </summary>
    [Theory]
    [InlineData("-p:KdGatConfig=")]
    [InlineData("-p:KdGatSourceDir=")]
    [InlineData("-p:KdGatIndex=")]
    [InlineData("-p:KdGatToolsConfiguration=")]
    [InlineData("-p:ReportFile=")]
    public void EmptyPathProperty_MeansTheDefault(string property)
    {
        using var s = Sandbox.Trivial();
        var r = s.Build(property, "-p:Dataset=hcrl_sa");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.DoesNotContain("error", r.Output);
        Assert.True(File.Exists(Path.Combine(s.RunDir("hcrl_sa", "eval_small_evaluation"), "metrics.json")), "the default kdgat.yaml was built");
    }

    /// <summary>
    /// A -p:KdGatConfig no file's path can be: a NUL (%00) was .NET's ArgumentException in the plan
    /// task's first Path call, a KDG9001 crash file (a diff review); a line break was echoed as the
    /// error's file once per line. One KDG1001 each, for every target that reads the configuration.
    /// </summary>
    [Theory]
    [InlineData("-p:KdGatConfig=a%00b.yaml", "-t:Evaluate", "U+0000")]
    [InlineData("-p:KdGatConfig=a%00b.yaml", "-t:Status", "U+0000")]
    [InlineData("-p:KdGatConfig=a%0Ab.yaml", "-t:Clean", "line break")]
    public void AConfigPathNoFileHas_IsKdg1001(string property, string target, string says)
    {
        using var s = Sandbox.Trivial();
        var r = s.Build(property, target, "-p:Dataset=hcrl_sa");
        AssertUserError(r, "KDG1001", says);
        Assert.DoesNotContain("KDG9001", r.Output);
    }

    /// <summary>-p:KdGatToolsDir= is the default .kdgat/tools/ (empty in a sandbox: KDG1206 naming it), not MSB4184.</summary>
    [Fact]
    public void EmptyToolsDir_MeansTheDefaultToolsDir()
    {
        using var s = Sandbox.Trivial();
        var r = s.Build("-p:KdGatToolsDir=", "-p:Dataset=hcrl_sa");
        AssertUserError(r, "KDG1206", Path.Combine(s.Dir, ".kdgat", "tools") + "/");
        Assert.DoesNotContain("MSB", r.Output);
    }

    /// <summary>
    /// .kdgat (or the tools dir) as a regular file: 85 s of compiling, then 300 MSB3021/MSB3026 copy
    /// errors (found by review). It is KDG1207 naming the file before anything compiles.
    /// </summary>
    [Theory]
    [InlineData(".kdgat")]
    [InlineData(".kdgat/tools")]
    public void ToolsDirUnderAFile_IsKdg1207BeforeCompiling(string file)
    {
        using var s = Sandbox.Trivial();
        Directory.CreateDirectory(Path.GetDirectoryName(Path.Combine(s.Dir, file))!);
        File.WriteAllText(Path.Combine(s.Dir, file), "");
        var r = s.Build($"-p:KdGatToolsDir={Path.Combine(s.Dir, ".kdgat", "tools")}/", "-p:KdGatSkipBootstrap=false", $"-p:KdGatSourceDir={Repo.Root}/src/", "-p:Dataset=hcrl_sa");
        AssertUserError(r, "KDG1207", $"'{Path.Combine(s.Dir, file)}' is not a directory", "-p:KdGatToolsDir=");
        Assert.DoesNotContain("`rm ", r.Output); // it was `rm /dev/null` for -p:KdGatToolsDir=/dev/null
        Assert.DoesNotContain("building tools", r.Output);
        Assert.DoesNotContain("MSB", r.Output);
    }

    /// <summary>-p:Dataset of separators only built no instance and succeeded, while -p:Dataset= builds every dataset (found by review).</summary>
    [Theory]
    [InlineData("-p:Dataset=%3B%3B")]
    [InlineData("-p:Dataset=%20%3B%20%3B")]
    public void DatasetOfOnlySeparators_IsKdg1205(string property)
    {
        using var s = Sandbox.Trivial();
        var r = s.Build(property);
        AssertUserError(r, "KDG1205", "-p:Dataset", "names no dataset", "leave -p:Dataset out");
        Assert.False(Directory.Exists(Path.Combine(s.Dir, "experimentruns")), "nothing may run");
    }

    /// <summary>
    /// `cache_store: /scratch/$USER/kdgat-cache` (the bundled kdgat.yaml's example) made a folder named
    /// `$USER`: a path's $NAME and ${NAME} are the build's environment; unset, KDG1025 at kdgat.yaml(line,col).
    /// </summary>
    [Fact]
    public void EnvironmentVariablesInPaths_AreExpanded_AndAnUnsetOneIsKdg1025AtItsLine()
    {
        using var s = Sandbox.Trivial();
        s.Env["KDGAT_TEST_WHO"] = "alice";
        s.EditConfig(c => c.Replace("\nexecutor: local ", "\ncache_store: 'store-$KDGAT_TEST_WHO'\nexecutor: local ")
                           .Replace("\n  runs: experimentruns ", "\n  runs: 'runs-${KDGAT_TEST_WHO}' "));

        var r = s.Build("-p:Dataset=hcrl_sa");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.True(File.Exists(Path.Combine(s.Dir, "runs-alice", "hcrl_sa", "eval_small_evaluation", "metrics.json")));
        Assert.True(Directory.Exists(Path.Combine(s.Dir, "store-alice")));
        Assert.False(Directory.Exists(Path.Combine(s.Dir, "runs-${KDGAT_TEST_WHO}")));
        Assert.False(Directory.Exists(Path.Combine(s.Dir, "store-$KDGAT_TEST_WHO")));

        s.Env.Remove("KDGAT_TEST_WHO");
        var unset = s.Build("-p:Dataset=hcrl_sa");
        // paths: is read first; cache_store (line 6) would be next.
        AssertUserError(unset, "KDG1025", "kdgat.yaml(15,9)", "'paths.runs' uses ${KDGAT_TEST_WHO}", "export KDGAT_TEST_WHO=");
    }

    /// <summary>`a.b: 1` beside `a: {b: 2}` in a params file: params.json kept 2 and dropped 1 silently (found by review).</summary>
    [Fact]
    public void ParamsKeyCollision_IsKdg1009NamingBothPositions()
    {
        using var s = Sandbox.Trivial();
        var file = Path.Combine(s.Dir, "models", "vgae", "large.yaml");
        var lines = File.ReadAllLines(file).Length;
        File.AppendAllText(file, "a.b: 1\na:\n  b: 2\n");

        var r = s.Build("-p:Dataset=hcrl_sa");
        AssertUserError(r, "KDG1009", $"large.yaml({lines + 3},3)", $"models/vgae/large.yaml({lines + 1},1)", "parameter 'a.b' is written twice");
        Assert.False(Directory.Exists(Path.Combine(s.Dir, "experimentruns")), "nothing may run");
    }

    [Fact]
    public void RunStageWithoutStage_SaysHowToNameOne()
    {
        using var s = Sandbox.Trivial();
        AssertUserError(s.Build("-t:RunStage", "-p:Dataset=hcrl_sa"), "KDG1205", "-p:Stage=");
        Assert.False(Directory.Exists(Path.Combine(s.Dir, "experimentruns", "hcrl_sa")), "nothing may run");
    }

    [Fact]
    public void UnwritableReportFile_IsKdg1207NamingThePath()
    {
        using var s = Sandbox.Trivial();
        AssertUserError(s.Build("-t:Report", "-p:Dataset=hcrl_sa", "-p:ReportFile=/proc/kdgat-report.html"), "KDG1207", "/proc/kdgat-report.html");
    }

    [Fact]
    public void StageMissingFromConfig_NamesTheStage()
    {
        using var s = Sandbox.Trivial();
        s.EditConfig(c => c.Replace("  dqn_small_fusion:\n", "  dqn_small_fusion_typo:\n"));
        var r = s.Build("-p:Dataset=hcrl_sa");
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("dqn_small_fusion", r.Output);
        Assert.Matches(@"error KDG1\d{3}", r.Output);
        Assert.DoesNotContain("   at ", r.Output);
    }

    [Fact]
    public void CorruptManifest_WarnsAndReruns_NeverLooksUpToDate()
    {
        using var s = Sandbox.Trivial();
        Assert.Equal(0, s.Build("-p:Dataset=hcrl_sa").ExitCode);
        var manifest = Path.Combine(s.RunDir("hcrl_sa", "gat_small_curriculum"), "kdgat.manifest.json");
        File.WriteAllText(manifest, "{ \"fingerprint\": \"trunc");

        var r = s.Build("-p:Dataset=hcrl_sa");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("warning KDG2001", r.Output);
        // Brought back by a run or, since the store holds that fingerprint, a verified restore: never "up to date".
        Assert.Contains("hcrl_sa/gat_small_curriculum", Sandbox.With(s.LastBuild(), Outcome.Ran).Concat(Sandbox.With(s.LastBuild(), Outcome.Restored)));
    }

    [Fact]
    public void BadResourceValue_NamesStageAndField()
    {
        using var s = Sandbox.Trivial();
        s.EditConfig(c => c.Replace("resources: { cpus: 2, mem: 4G }", "resources: { cpus: 2, mem: lots }"));
        AssertUserError(s.Build("-p:Dataset=hcrl_sa"), "KDG1008", "preprocess", "mem", "lots");
    }
}
