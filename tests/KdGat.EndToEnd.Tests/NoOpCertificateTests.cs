using System.Text.RegularExpressions;
using KdGat.Core.Diagnostics;
using KdGat.Core.Engine;
using KdGat.Testing;
using Xunit;

namespace KdGat.EndToEnd.Tests;

/// <summary>
/// The no-op certificate (NoOp/): a settled no-op writes one, the next no-op uses it, and any
/// change a full check would see makes the next build check in full. Every build here runs with
/// KDGAT_NOOP_CERTIFICATE=verify: a certificate that holds is checked against the full check,
/// and a disagreement fails the build (KDG9002).
/// </summary>
[Trait("Category", "EndToEnd")]
public sealed class NoOpCertificateTests
{
    private static Sandbox Certified(out string certificateDir)
    {
        var s = Sandbox.Trivial();
        s.Env["KDGAT_NOOP_CERTIFICATE"] = "verify";
        Assert.Equal(0, s.Build("-p:Dataset=hcrl_sa").ExitCode);
        var settled = s.BuildSettled("-p:Dataset=hcrl_sa");
        Assert.True(settled.ExitCode == 0, settled.ToString());
        Assert.Null(s.LastBuild().NoOpCertificate); // the full check ran, and wrote the certificate
        certificateDir = Path.Combine(s.Dir, ".kdgat", "noop");
        Assert.Single(Directory.GetFiles(certificateDir));
        return s;
    }

    [Fact]
    public void ASettledNoOpWritesACertificate_TheNextNoOpIsAnsweredByIt()
    {
        using var s = Certified(out _);
        var r = s.Build("-p:Dataset=hcrl_sa");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.True(s.LastBuild().NoOpCertificate);
        Assert.Equal(13, Sandbox.With(s.LastBuild(), Outcome.UpToDate).Length);
        // The terminal logger (-tl:on sets _MSBUILDTLENABLED) is the same request.
        Assert.Equal(0, s.Build("-p:Dataset=hcrl_sa", "-tl:on").ExitCode);
        Assert.True(s.LastBuild().NoOpCertificate);
        // Another selection is another request: the full check, not this certificate.
        Assert.Equal(0, s.Build("-p:Dataset=hcrl_sa", "-p:Stage=gat_large_curriculum").ExitCode);
        Assert.Null(s.LastBuild().NoOpCertificate);
        s.Env["KDGAT_NOOP_CERTIFICATE"] = "off";
        Assert.Equal(0, s.Build("-p:Dataset=hcrl_sa").ExitCode);
        Assert.Null(s.LastBuild().NoOpCertificate);
        s.Env["KDGAT_NOOP_CERTIFICATE"] = "of"; // a typo: said (KDG1220), and certificates stay on
        var typo = s.Build("-p:Dataset=hcrl_sa");
        Assert.Equal(0, typo.ExitCode);
        Assert.True(typo.Output.Contains(ErrorCodes.NoOpSettingUnknown, StringComparison.Ordinal), typo.ToString());
        var typoAgain = s.BuildSettled("-p:Dataset=hcrl_sa");
        Assert.Equal(0, typoAgain.ExitCode);
        Assert.Contains(ErrorCodes.NoOpSettingUnknown, typoAgain.Output); // said again by the certificate
        Assert.True(s.LastBuild().NoOpCertificate);
        s.Env.Remove("KDGAT_NOOP_CERTIFICATE"); // as users run it: the certificate answers alone
        var fixedTypo = s.Build("-p:Dataset=hcrl_sa");
        Assert.Equal(0, fixedTypo.ExitCode);
        Assert.True(s.LastBuild().NoOpCertificate);
        Assert.DoesNotContain(ErrorCodes.NoOpSettingUnknown, fixedTypo.Output); // not recorded in the certificate
    }

    public static TheoryData<string> Changes =>
    [
        "parameter", "raw data, same size and mtime", "output, same size and mtime", "params.json", "file added to an input directory",
        "dangling symlink added to an input directory", "declared environment variable", "declared environment variable a shell sets (COLUMNS)", "journal of an interrupted attempt", "up-to-date marker deleted", "kdgat.yaml",
    ];

    /// <summary>Each change after a certificate was written: the next build does not take the certificate, and does what the change needs.</summary>
    [Theory]
    [MemberData(nameof(Changes))]
    public void AChangeAfterTheCertificate_IsSeenByTheNextBuild(string change)
    {
        using var s = Certified(out _);
        string[] mustRun = [];
        switch (change)
        {
            case "parameter":
                var gat = Path.Combine(s.Dir, "models", "gat", "large.yaml");
                File.WriteAllText(gat, File.ReadAllText(gat).Replace("lr: 0.001", "lr: 0.002"));
                mustRun = IncrementalBuildTests.GatLargeDownstream;
                break;
            case "raw data, same size and mtime":
                KeepSizeAndTime(s.RawFile("hcrl_sa"), b => b[0] ^= 1);
                mustRun = [.. s.LastBuild().Stages.Select(x => $"{x.Dataset}/{x.Stage}").Order(StringComparer.Ordinal)];
                break;
            case "output, same size and mtime":
                KeepSizeAndTime(Path.Combine(s.RunDir("hcrl_sa", "gat_large_curriculum"), "model.ckpt"), b => b[0] ^= 1);
                mustRun = ["hcrl_sa/gat_large_curriculum"]; // restored from the output cache or run: either puts the bytes back, downstream unchanged
                break;
            case "params.json":
                File.WriteAllText(Path.Combine(s.RunDir("hcrl_sa", "gat_large_curriculum"), "params.json"), "{}");
                mustRun = ["hcrl_sa/gat_large_curriculum"]; // its command reads it (the evaluations' do not, so theirs is not KdGat's to check)
                break;
            case "file added to an input directory":
                File.WriteAllText(Path.Combine(Path.GetDirectoryName(s.RawFile("hcrl_sa"))!, "more.csv"), "x\n");
                mustRun = ["hcrl_sa/preprocess"]; // its graph cache comes out the same, so nothing downstream reruns
                break;
            case "dangling symlink added to an input directory":
                File.CreateSymbolicLink(Path.Combine(Path.GetDirectoryName(s.RawFile("hcrl_sa"))!, "annexed.csv"), "/nonexistent/annex/object");
                mustRun = ["hcrl_sa/preprocess"];
                break;
            case "declared environment variable":
            case "declared environment variable a shell sets (COLUMNS)":
                // COLUMNS is left out of the certificate's key (shells change it), so this one is seen only as a variable the stage reads.
                var name = change.EndsWith("(COLUMNS)", StringComparison.Ordinal) ? "COLUMNS" : "KDG_TEST_VAR";
                s.EditConfig(c => Regex.Replace(c, @"(\n  preprocess:\n)", $"$1    env: [{name}]\n"));
                Assert.Equal(0, s.Build("-p:Dataset=hcrl_sa").ExitCode);
                Assert.Equal(0, s.BuildSettled("-p:Dataset=hcrl_sa").ExitCode);
                Assert.Equal(0, s.Build("-p:Dataset=hcrl_sa").ExitCode);
                Assert.True(s.LastBuild().NoOpCertificate);
                s.Env[name] = "on";
                mustRun = ["hcrl_sa/preprocess"];
                break;
            case "journal of an interrupted attempt":
                // What an attempt that is running (or was killed) has: its state dir's aside dir (the previous result moved there).
                Directory.CreateDirectory(Path.Combine(s.Dir, "experimentruns", "hcrl_sa", ".kdgat", "eval_small_evaluation", "aside"));
                break;
            case "up-to-date marker deleted":
                File.Delete(Path.Combine(s.Dir, ".kdgat", "stamps", "hcrl_sa", "dqn_large_fusion.current"));
                break;
            case "kdgat.yaml":
                s.EditConfig(c => c + "\n# a comment\n");
                break;
        }
        var r = s.Build("-p:Dataset=hcrl_sa");
        Assert.True(r.ExitCode == 0, r.ToString());
        var report = s.LastBuild();
        Assert.Null(report.NoOpCertificate);
        Assert.True(mustRun.SequenceEqual(report.Stages.Where(x => x.Outcome is Outcome.Ran or Outcome.Restored).Select(x => $"{x.Dataset}/{x.Stage}").Order(StringComparer.Ordinal)),
            $"expected to run: {string.Join(", ", mustRun)}\n{r}");
    }

    /// <summary>
    /// What the full check refuses, a certificate must not accept: a declared path going up ('..')
    /// out of a directory symlink is KDG1018, so a link made or retargeted after the certificate
    /// (the input then read from elsewhere) must fail the next build; and so must a dataset whose
    /// state directory became a file (its lock cannot be taken, KDG1207).
    /// </summary>
    [Fact]
    public void WhatTheFullCheckRefuses_AfterTheCertificate_FailsTheNextBuild()
    {
        using var s = Sandbox.Trivial();
        s.Env.Remove("KDGAT_NOOP_CERTIFICATE"); // not verify: its full check would fail these builds whatever the certificate said
        var extra = Path.Combine(s.Dir, "extra");
        Directory.CreateDirectory(Path.Combine(extra, "a_v2"));
        File.WriteAllText(Path.Combine(extra, "b.txt"), "b\n");
        File.CreateSymbolicLink(Path.Combine(extra, "a"), "a_v2"); // a link into a sibling: 'a/..' is 'extra' either way, allowed
        s.EditConfig(c => Regex.Replace(c, @"(\n  eval_small_evaluation:\n)", "$1    inputs: ['extra/a/../b.txt']\n"));
        Assert.Equal(0, s.Build("-p:Dataset=hcrl_sa").ExitCode);
        Assert.Equal(0, s.BuildSettled("-p:Dataset=hcrl_sa").ExitCode);
        Assert.Equal(0, s.Build("-p:Dataset=hcrl_sa").ExitCode);
        Assert.True(s.LastBuild().NoOpCertificate);

        var elsewhere = Path.Combine(s.Dir + "-elsewhere", "a");
        Directory.CreateDirectory(elsewhere);
        try
        {
            File.Delete(Path.Combine(extra, "a"));
            File.CreateSymbolicLink(Path.Combine(extra, "a"), elsewhere);
            var r = s.Build("-p:Dataset=hcrl_sa");
            Assert.True(r.ExitCode != 0 && r.Output.Contains("KDG1018", StringComparison.Ordinal), r.ToString());

            File.Delete(Path.Combine(extra, "a"));
            File.CreateSymbolicLink(Path.Combine(extra, "a"), "a_v2");
            Assert.Equal(0, s.Build("-p:Dataset=hcrl_sa").ExitCode);
            Assert.Equal(0, s.BuildSettled("-p:Dataset=hcrl_sa").ExitCode);
            Assert.Equal(0, s.Build("-p:Dataset=hcrl_sa").ExitCode);
            Assert.True(s.LastBuild().NoOpCertificate);
            var state = Path.Combine(s.Dir, "experimentruns", "hcrl_sa", ".kdgat");
            Directory.Move(state, state + ".moved");
            File.WriteAllText(state, "");
            r = s.Build("-p:Dataset=hcrl_sa");
            Assert.True(r.ExitCode != 0, r.ToString());
        }
        finally { Directory.Delete(s.Dir + "-elsewhere", recursive: true); }
    }

    /// <summary>Two targets of one plan (-t:Train, -t:Evaluate) keep a certificate each: alternating, both are answered by theirs.</summary>
    [Fact]
    public void TwoBuildsOfOnePlan_EachKeepTheirCertificate()
    {
        using var s = Certified(out var certificates);
        Assert.Equal(0, s.Build("-t:Train", "-p:Dataset=hcrl_sa").ExitCode);
        Assert.Equal(0, s.BuildSettled("-t:Train", "-p:Dataset=hcrl_sa").ExitCode);
        Assert.Equal(2, Directory.GetFiles(certificates).Length);
        foreach (var target in new[] { "-t:Evaluate", "-t:Train", "-t:Evaluate" })
        {
            Assert.Equal(0, s.Build(target, "-p:Dataset=hcrl_sa").ExitCode);
            Assert.True(s.LastBuild().NoOpCertificate, target);
        }
    }

    /// <summary>
    /// The plan's certificate is looked up before MSBuild evaluates the project for the stage
    /// graph, so its key has what the graph is made from instead (stage names, -p: values) and it
    /// observes the project files. A graph changed by an edit of pipeline.proj or by a property's
    /// value (its name the same) must not take the plan's certificate: MSBuild runs the stage target
    /// of the stage that gained an upstream (its body has a side effect here), and the build runs
    /// that stage.
    /// </summary>
    [Theory]
    [InlineData("pipeline.proj edited")]
    [InlineData("property value")]
    public void AStageGraphChangedAfterTheCertificate_RunsTheStageTargetAndTheStage(string change)
    {
        using var s = Sandbox.Trivial();
        s.Env["KDGAT_NOOP_CERTIFICATE"] = "verify";
        var pipeline = Path.Combine(s.Dir, "pipeline.proj");
        var ranFile = Path.Combine(s.Dir, "target-ran.txt");
        const string item = "<KdGatStage Include=\"eval_small_evaluation\" Needs=\"preprocess;vgae_small_autoencoder;gat_small_curriculum;dqn_small_fusion\" />";
        Assert.Contains(item + "</ItemGroup>", File.ReadAllText(pipeline));
        File.WriteAllText(pipeline, File.ReadAllText(pipeline).Replace(item + "</ItemGroup>",
            item.Replace("dqn_small_fusion\"", "dqn_small_fusion$(KdgTestExtraNeeds)\"") + "</ItemGroup><WriteLinesToFile File=\"target-ran.txt\" Lines=\"ran\" />"));
        string[] args = ["-p:Dataset=hcrl_sa", "-p:KdgTestExtraNeeds=%3B"];
        Assert.Equal(0, s.Build(args).ExitCode);
        Assert.Equal(0, s.BuildSettled(args).ExitCode);
        File.Delete(ranFile);
        Assert.Equal(0, s.Build(args).ExitCode);
        Assert.True(s.LastBuild().NoOpCertificate);
        Assert.False(File.Exists(ranFile)); // certified: MSBuild skipped every stage target

        if (change == "property value") args = ["-p:Dataset=hcrl_sa", "-p:KdgTestExtraNeeds=%3Bdqn_large_fusion"];
        else File.WriteAllText(pipeline, File.ReadAllText(pipeline).Replace("$(KdgTestExtraNeeds)", ";dqn_large_fusion$(KdgTestExtraNeeds)"));
        var r = s.Build(args);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Null(s.LastBuild().NoOpCertificate);
        Assert.Equal(["hcrl_sa/eval_small_evaluation"], Sandbox.With(s.LastBuild(), Outcome.Ran));
        Assert.True(File.Exists(ranFile), "MSBuild skipped the stage target of a stage the build ran\n" + r);
    }

    /// <summary>
    /// A graph changed through something the plan's certificate does not observe (here a condition
    /// on a file's existence) is caught by the build task: it warns (KDG1231: MSBuild may have
    /// skipped stage targets), checks in full (the stage runs), and forgets the plan's certificates
    /// so the next build plans in full.
    /// </summary>
    [Fact]
    public void AStageGraphChangedThroughSomethingUnobserved_IsWarnedAndCheckedInFull()
    {
        using var s = Sandbox.Trivial();
        s.Env["KDGAT_NOOP_CERTIFICATE"] = "verify";
        var pipeline = Path.Combine(s.Dir, "pipeline.proj");
        const string needs = "Needs=\"preprocess;vgae_small_autoencoder;gat_small_curriculum;dqn_small_fusion\"";
        Assert.Contains(needs, File.ReadAllText(pipeline));
        File.WriteAllText(pipeline, File.ReadAllText(pipeline)
            .Replace(needs, needs[..^1] + "$(KdgTestExtraNeeds)\"")
            .Replace("<PropertyGroup>", "<PropertyGroup><KdgTestExtraNeeds Condition=\"Exists('more-needs.flag')\">;dqn_large_fusion</KdgTestExtraNeeds>"));
        Assert.Equal(0, s.Build("-p:Dataset=hcrl_sa").ExitCode);
        Assert.Equal(0, s.BuildSettled("-p:Dataset=hcrl_sa").ExitCode);
        Assert.Equal(0, s.Build("-p:Dataset=hcrl_sa").ExitCode);
        Assert.True(s.LastBuild().NoOpCertificate);

        File.WriteAllText(Path.Combine(s.Dir, "more-needs.flag"), "");
        var r = s.Build("-p:Dataset=hcrl_sa");
        Assert.True(r.ExitCode == 0 && r.Output.Contains("KDG1231", StringComparison.Ordinal), r.ToString());
        Assert.Null(s.LastBuild().NoOpCertificate);
        Assert.Equal(["hcrl_sa/eval_small_evaluation"], Sandbox.With(s.LastBuild(), Outcome.Ran));
        Assert.Empty(Directory.GetFiles(Path.Combine(s.Dir, ".kdgat", "noop")));
        // Settled again under the new graph: certified, and no warning.
        Assert.Equal(0, s.BuildSettled("-p:Dataset=hcrl_sa").ExitCode);
        r = s.Build("-p:Dataset=hcrl_sa");
        Assert.True(r.ExitCode == 0 && !r.Output.Contains("KDG1231", StringComparison.Ordinal), r.ToString());
        Assert.True(s.LastBuild().NoOpCertificate);
    }

    /// <summary>
    /// A code pattern that matches no file (a misspelt folder) is warning KDG1013 at its entry, once
    /// per build (the plan and the build task of one MSBuild build; every stage and dataset uses it).
    /// A warning at load does not keep a no-op from being certified: the certificate says it again,
    /// the same line, under -tl:off and -tl:on. Creating a file the pattern matches changes a listing
    /// the certificate observed: the full check runs, without the warning, and every stage reruns.
    /// </summary>
    [Fact]
    public void ACodePatternMatchingNothing_IsWarnedOnce_ByTheFullCheckAndByTheCertificate_UntilAFileMatches()
    {
        using var s = Sandbox.Trivial();
        s.Env["KDGAT_NOOP_CERTIFICATE"] = "verify";
        const string bundled = "code: ['src/KdGat.Sample/**/*.cs']";
        s.EditConfig(c => c.Contains(bundled, StringComparison.Ordinal) ? c.Replace(bundled, "code: ['scriptz/**/*.sh']") : throw new InvalidOperationException("the bundled code line is not there"));
        var at = File.ReadAllLines(s.Config).Select((l, i) => (Line: i + 1, Column: l.IndexOf("'scriptz", StringComparison.Ordinal) + 1)).Single(p => p.Column > 0);
        var warning = $"kdgat.yaml({at.Line},{at.Column}): warning KDG1013: code pattern 'scriptz/**/*.sh' matches no file";
        string WarnedOnce(ProcessResult r)
        {
            Assert.True(r.ExitCode == 0, r.ToString());
            var lines = r.Output.Split('\n').Where(l => l.Contains("KDG1013", StringComparison.Ordinal)).Select(l => l.Trim()).ToArray();
            // The console logger repeats a build's warnings in its summary at the end: one warning, said once, shows there twice.
            Assert.True(lines.Distinct().Count() == 1 && lines[0].Contains(warning, StringComparison.Ordinal), r.ToString());
            return lines[0];
        }

        var first = WarnedOnce(s.Build("-p:Dataset=hcrl_sa", "-tl:off"));
        var full = WarnedOnce(s.BuildSettled("-p:Dataset=hcrl_sa", "-tl:off"));
        Assert.Null(s.LastBuild().NoOpCertificate); // the full check, which writes the certificate despite the warning
        Assert.Equal(first, full);
        s.Env.Remove("KDGAT_NOOP_CERTIFICATE"); // the certificate answers alone, as users run it
        var certified = s.Build("-p:Dataset=hcrl_sa", "-tl:off");
        Assert.True(s.LastBuild().NoOpCertificate, certified.ToString());
        Assert.Equal(full, WarnedOnce(certified)); // what the full check said: file, line, column, text
        var tl = s.Build("-p:Dataset=hcrl_sa", "-tl:on");
        Assert.True(s.LastBuild().NoOpCertificate, tl.ToString());
        var plain = Regex.Replace(tl.Output, @"\x1b(\[[0-9;?]*[A-Za-z]|\][^\x1b]*\x1b\\)", ""); // the terminal logger's colours and cursor moves
        Assert.True(tl.ExitCode == 0 && plain.Contains(warning, StringComparison.Ordinal), tl.ToString());

        Directory.CreateDirectory(Path.Combine(s.Dir, "scriptz", "prep"));
        File.WriteAllText(Path.Combine(s.Dir, "scriptz", "prep", "run.sh"), "echo prep\n");
        var fixedUp = s.Build("-p:Dataset=hcrl_sa", "-tl:off");
        Assert.True(fixedUp.ExitCode == 0 && !fixedUp.Output.Contains("KDG1013", StringComparison.Ordinal), fixedUp.ToString());
        Assert.Null(s.LastBuild().NoOpCertificate);
        Assert.Equal(13, Sandbox.With(s.LastBuild(), Outcome.Ran).Length); // the code every stage names changed
    }

    /// <summary>
    /// Completeness, measured from outside: every path under the pipeline that the full check's
    /// build touches (stat, open, list, readlink: strace of the whole MSBuild process) is one the
    /// certificate observed, except KdGat's own state, MSBuild's own project files and locks. A
    /// file the check reads that no probe records would fail here. And by kind of question: a
    /// directory it lists has a listing probe, a link it reads a link probe, a file it opens to
    /// read an identity probe (a path observed only as "exists" would miss a changed listing,
    /// target or content).
    /// </summary>
    [Fact]
    public void EveryPathTheFullCheckLooksAt_IsObservedByTheCertificate()
    {
        using var s = Certified(out var certificates);
        var probes = File.ReadAllLines(Directory.GetFiles(certificates).Single())
            .Where(l => l.StartsWith("o\t", StringComparison.Ordinal)).Select(l => l.Split('\t')).Select(f => (Probe: f[1], Path: f[2])).ToHashSet();
        var observed = probes.Select(p => p.Path).ToHashSet(StringComparer.Ordinal);
        var trace = Path.Combine(s.Dir, "..", Path.GetFileName(s.Dir) + ".strace");
        s.Env["KDGAT_NOOP_CERTIFICATE"] = "off"; // the full check, as a build without a certificate makes it
        try
        {
            var r = ProcessRunner.Run("strace", ["-f", "-qq", "-y", "-s", "4096", "-e", "trace=%file,getdents64", "-o", trace, "dotnet", .. s.MSBuildArgs(["-p:Dataset=hcrl_sa"])], s.Dir, TimeSpan.FromMinutes(5), s.Env);
            Assert.True(r.ExitCode == 0, r.ToString());
            Assert.Equal(13, Sandbox.With(s.LastBuild(), Outcome.UpToDate).Length);
            var touched = TracedPaths(Joined(File.ReadLines(trace)), s.Dir).Where(p => StrictlyUnder(p, s.Dir)).ToHashSet(StringComparer.Ordinal);
            Assert.Contains(s.RawFile("hcrl_sa"), touched); // the trace sees what the check reads
            var missed = touched.Where(p => !observed.Contains(p) && !NotADecision(Path.GetRelativePath(s.Dir, p))).Order(StringComparer.Ordinal).ToArray();
            Assert.True(missed.Length == 0, "looked at by the full check, not observed by the certificate:\n" + string.Join("\n", missed));
            var questions = TracedQuestions(Joined(File.ReadLines(trace)), s.Dir).Where(q => StrictlyUnder(q.Path, s.Dir) && !NotADecision(Path.GetRelativePath(s.Dir, q.Path))).ToHashSet();
            Assert.Contains(("read", Path.Combine(s.Dir, "kdgat.yaml")), questions); // the kinds are told apart (the raw data's bytes: hash cache)
            Assert.Contains(("list", Path.GetDirectoryName(s.RawFile("hcrl_sa"))!), questions);
            var unanswered = questions.Where(q => !AnsweredBy[q.Kind].Any(probe => probes.Contains((probe, q.Path)))).Select(q => $"{q.Kind} {q.Path}").Order(StringComparer.Ordinal).ToArray();
            Assert.True(unanswered.Length == 0, "asked by the full check, not by a probe of the same kind:\n" + string.Join("\n", unanswered));
        }
        finally { File.Delete(trace); }
    }

    private static bool StrictlyUnder(string path, string dir) => path.StartsWith(dir + "/", StringComparison.Ordinal);

    /// <summary>
    /// KdGat's state under .kdgat/ (stamps are observed by the plan, the rest decides nothing) and
    /// a dataset's .kdgat/ (its lock), MSBuild's and the dotnet host's own files (project, response
    /// files, global.json, and what the host probes relative to the working directory).
    /// </summary>
    private static bool NotADecision(string relative) =>
        relative.StartsWith(".kdgat/", StringComparison.Ordinal) || relative is ".kdgat" or "targets" or "pipeline.proj" or "Directory.Build.rsp" or "MSBuild.rsp" or "global.json"
        || relative.StartsWith("targets/", StringComparison.Ordinal) || relative.StartsWith("opt/", StringComparison.Ordinal) || relative.StartsWith("--", StringComparison.Ordinal)
        || !relative.Contains('/') && relative.StartsWith("Directory.", StringComparison.Ordinal)
        || Regex.IsMatch(relative, @"^experimentruns/[^/]+/\.kdgat(/[^/]*lock[^/]*)?$") || Path.GetFileName(relative) is "lock" or "obj" or "bin";

    /// <summary>
    /// A path argument of an *at call: "dirfd&lt;dir&gt;, \"path\"" or "AT_FDCWD&lt;cwd&gt;, \"path\"" (strace -y
    /// names the directory of both; without -y, AT_FDCWD alone: the test's working directory).
    /// </summary>
    private const string AtPath = @"(?:\d+<(?<dir>[^>]*)>|AT_FDCWD(?:<(?<dir>[^>]*)>)?), ""(?<path>[^""]*)""";

    private static string Full(Match m, string cwd) =>
        Path.GetFullPath(m.Groups["path"].Value.StartsWith('/') ? m.Groups["path"].Value : Path.Combine(m.Groups["dir"].Success ? m.Groups["dir"].Value : cwd, m.Groups["path"].Value)).TrimEnd('/');

    /// <summary>Absolute paths in strace lines: quoted ones, and "dirfd&lt;dir&gt;, \"relative\"" joined.</summary>
    private static IEnumerable<string> TracedPaths(IEnumerable<string> lines, string cwd)
    {
        foreach (var line in lines)
        {
            foreach (Match m in Regex.Matches(line, AtPath))
                yield return Full(m, cwd);
            foreach (Match m in Regex.Matches(line, @"^\d+ +(?:open|stat|lstat|access|readlink|statfs)\(""([^""]*)"""))
                yield return Path.GetFullPath(m.Groups[1].Value, cwd).TrimEnd('/');
            foreach (Match m in Regex.Matches(line, @"getdents64\(\d+<([^>]*)>"))
                yield return m.Groups[1].Value.TrimEnd('/');
        }
    }

    /// <summary>The probes (FileObservations.Probe letters) that ask what a kind of system call asked.</summary>
    private static readonly Dictionary<string, string[]> AnsweredBy = new()
    {
        ["list"] = ["L"],           // getdents64: the names a directory lists
        ["readlink"] = ["K", "T"],  // a link's target, or the final one of a chain
        ["read"] = ["I", "S"],      // a regular file's bytes: its identity (Stat holds it too)
    };

    /// <summary>
    /// strace -f's lines with each call that another thread interrupted put back together: "PID
    /// call(args &lt;unfinished ...&gt;" and, later, "PID &lt;... call resumed&gt;rest) = result".
    /// </summary>
    private static IEnumerable<string> Joined(IEnumerable<string> lines)
    {
        var started = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in lines)
        {
            var pid = line.Split(' ', 2)[0];
            if (line.EndsWith(" <unfinished ...>", StringComparison.Ordinal)) { started[pid] = line[..^" <unfinished ...>".Length]; continue; }
            if (Regex.Match(line, @"^\d+ +<\.\.\. [a-z0-9_]+ resumed>(.*)$") is { Success: true } resumed && started.Remove(pid, out var start))
            {
                yield return start + resumed.Groups[1].Value;
                continue;
            }
            yield return line;
        }
        foreach (var start in started.Values) yield return start;
    }

    /// <summary>Directories listed, links read and files opened for reading (successfully) in strace lines, with absolute paths.</summary>
    private static IEnumerable<(string Kind, string Path)> TracedQuestions(IEnumerable<string> lines, string cwd)
    {
        foreach (var line in lines)
        {
            if (Regex.Match(line, @"getdents64\(\d+<([^>]*)>") is { Success: true } list) yield return ("list", list.Groups[1].Value.TrimEnd('/'));
            if (Regex.Match(line, @"^\d+ +readlink(?:at\(" + AtPath + @"|\(""(?<path>[^""]*)"")") is { Success: true } link)
                yield return ("readlink", Full(link, cwd));
            if (Regex.Match(line, @"^\d+ +open(?:at2?\(" + AtPath + @"|\(""(?<path>[^""]*)""), \{?(?:flags=)?(?<flags>[A-Z_|]+).*\) = \d+<") is { Success: true } open
                && open.Groups["flags"].Value.Contains("O_RDONLY", StringComparison.Ordinal) && !Regex.IsMatch(open.Groups["flags"].Value, "O_DIRECTORY|O_WRONLY|O_RDWR|O_CREAT|O_PATH"))
                yield return ("read", Full(open, cwd));
        }
    }

    /// <summary>Flips bytes of a file and puts its size and mtime back (only its ctime says it changed: a copy tool, or a clock on NFS).</summary>
    private static void KeepSizeAndTime(string file, Action<byte[]> edit)
    {
        var mtime = File.GetLastWriteTimeUtc(file);
        var bytes = File.ReadAllBytes(file);
        edit(bytes);
        File.WriteAllBytes(file, bytes);
        File.SetLastWriteTimeUtc(file, mtime);
    }
}
