using System.Text.Json;
using System.Text.RegularExpressions;
using KdGat.Core.Engine;
using KdGat.Testing;
using Xunit;

namespace KdGat.EndToEnd.Tests;

/// <summary>
/// Stage targets with Inputs/Outputs: MSBuild skips the targets of up-to-date instances and runs a
/// target for its stale datasets only, driven by the content check (stamps and markers), never by
/// file times. Each build returns the plan (_KdGatPlan's KdGatStamp items: what MSBuild compares)
/// and logs to a file, from which the stage targets MSBuild executed are read.
/// </summary>
[Trait("Category", "EndToEnd")]
public sealed class StageTargetTests
{
    private static readonly string[] GatLargeDownstream = IncrementalBuildTests.GatLargeDownstream;
    private static readonly string[] StageTargets =
    [
        "preprocess_stage", "vgae_large_autoencoder", "gat_large_curriculum", "dqn_large_fusion", "eval_large_evaluation",
        "vgae_small_autoencoder_kd", "gat_small_curriculum_kd", "dqn_small_fusion_kd", "eval_small_evaluation_kd",
        "vgae_small_autoencoder", "gat_small_curriculum", "dqn_small_fusion", "eval_small_evaluation",
    ];

    private sealed record BuildResult(Dictionary<string, bool> Plan, string[] TargetsBuilt, string[] Ran, string Log);

    /// <summary>A build; Plan: instance -> up to date in the content check; TargetsBuilt: stage targets MSBuild executed (not skipped).</summary>
    private static BuildResult Build(Sandbox s, params string[] args)
    {
        var log = Path.Combine(s.Dir, "msbuild.log");
        // -getTargetResult alone would build only _KdGatPlan: name the entry target. Detailed: a target
        // built completely (every selected dataset stale) says so only there.
        var r = s.Build(["-t:Evaluate", .. args, "-getTargetResult:_KdGatPlan", "-noWarn:KDG1013", $"-flp:logfile={log};verbosity=detailed"]);
        Assert.True(r.ExitCode == 0, r.ToString());
        var items = Sandbox.MSBuildJson(r).GetProperty("TargetResults").GetProperty("_KdGatPlan").GetProperty("Items");
        // One item per dataset: Current and Stale list its stage targets.
        var plan = new Dictionary<string, bool>();
        foreach (var i in items.EnumerateArray().Where(i => i.TryGetProperty("Dataset", out _)))
            foreach (var (list, current) in new[] { ("Current", true), ("Stale", false) })
                foreach (var stage in i.GetProperty(list).GetString()!.Split(';', StringSplitOptions.RemoveEmptyEntries))
                    plan.Add($"{i.GetProperty("Dataset").GetString()}/{stage}", current);
        var text = File.ReadAllText(log);
        var built = StageTargets.Where(t => Regex.IsMatch(text, $"Building target \"{t}\" (completely|partially)")).ToArray();
        return new BuildResult(plan, built, Sandbox.With(s.LastBuild(), Outcome.Ran), text);
    }

    private static IEnumerable<string> StateFiles(Sandbox s) =>
        Directory.EnumerateFiles(s.Dir, "*", SearchOption.AllDirectories).Where(f => !f.EndsWith("msbuild.log", StringComparison.Ordinal));

    private static void SetAllTimes(Sandbox s, DateTime utc)
    {
        foreach (var f in StateFiles(s)) File.SetLastWriteTimeUtc(f, utc);
    }

    private static string Marker(Sandbox s, string dataset, string stage) => Path.Combine(s.Dir, ".kdgat", "stamps", dataset, stage + ".current");
    private static string Stamp(Sandbox s, string dataset) => Path.Combine(s.Dir, ".kdgat", "stamps", dataset, "fingerprints");

    [Fact]
    public void UpToDateStageTargets_AreSkippedByMSBuild_WhateverTheFileTimes()
    {
        using var s = Sandbox.Trivial();
        var first = Build(s, "-p:Dataset=hcrl_sa");
        Assert.Equal(StageTargets, first.TargetsBuilt); // never built: every target runs
        Assert.Equal(13, first.Ran.Length);

        var second = Build(s, "-p:Dataset=hcrl_sa");
        Assert.Equal(13, second.Plan.Count);
        Assert.All(second.Plan.Values, Assert.True);
        Assert.Empty(second.TargetsBuilt);
        Assert.Matches("Skipping target \"gat_large_curriculum\" because all output files are up-to-date", second.Log);
        Assert.Empty(second.Ran);

        // File times mean nothing: every file (stamps, markers, config, outputs) in the future, then in the past,
        // then stamps newer than markers.
        foreach (var when in new[] { DateTime.UtcNow.AddDays(3), new DateTime(2001, 1, 1, 0, 0, 0, DateTimeKind.Utc) })
        {
            SetAllTimes(s, when);
            var touched = Build(s, "-p:Dataset=hcrl_sa");
            Assert.Empty(touched.Ran);
            Assert.Empty(touched.TargetsBuilt);
        }
        foreach (var stage in GatLargeDownstream.Select(k => k.Split('/')[1]))
        {
            File.SetLastWriteTimeUtc(Marker(s, "hcrl_sa", stage), new DateTime(2001, 1, 1, 0, 0, 0, DateTimeKind.Utc));
        }
        File.SetLastWriteTimeUtc(Stamp(s, "hcrl_sa"), DateTime.UtcNow.AddDays(3));
        var skewed = Build(s, "-p:Dataset=hcrl_sa");
        Assert.Empty(skewed.Ran);
        Assert.Empty(skewed.TargetsBuilt);

        // -question writes nothing (stamps and markers as they were) and runs nothing.
        File.WriteAllText(Path.Combine(s.Dir, "models", "gat", "large.yaml"), File.ReadAllText(Path.Combine(s.Dir, "models", "gat", "large.yaml")).Replace("lr: 0.001", "lr: 0.002"));
        var stamps = Path.Combine(s.Dir, ".kdgat", "stamps");
        string Snapshot() => string.Join("\n", Directory.EnumerateFiles(stamps, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal)
            .Select(f => $"{f} {File.GetLastWriteTimeUtc(f):O} {File.ReadAllText(f).Trim()}"));
        var before = Snapshot();
        var question = s.Build("-p:Dataset=hcrl_sa", "-question");
        Assert.NotEqual(0, question.ExitCode);
        Assert.Contains("error KDG3011: hcrl_sa/gat_large_curriculum is not up to date", question.Output);
        Assert.Equal(before, Snapshot());
        Assert.Empty(Sandbox.With(s.LastBuild(), Outcome.Ran));
    }

    [Fact]
    public void AStaleStage_RunsWhateverTheFileTimesAndMarkers_AndAHandEditedOutputIsFound()
    {
        using var s = Sandbox.Trivial();
        Build(s, "-p:Dataset=hcrl_sa");
        Assert.Empty(Build(s, "-p:Dataset=hcrl_sa").Ran); // its content check leaves every marker

        // A content change with every file time set back and every marker still there, newer than its stamp:
        // the worst bug would be to report the changed stage as current.
        var model = Path.Combine(s.Dir, "models", "gat", "large.yaml");
        File.WriteAllText(model, File.ReadAllText(model).Replace("lr: 0.001", "lr: 0.002"));
        SetAllTimes(s, new DateTime(2001, 1, 1, 0, 0, 0, DateTimeKind.Utc));
        foreach (var stage in StageTargets.Select(t => t == "preprocess_stage" ? "preprocess" : t))
            File.SetLastWriteTimeUtc(Marker(s, "hcrl_sa", stage), DateTime.UtcNow.AddDays(3));

        var changed = Build(s, "-p:Dataset=hcrl_sa");

        Assert.Equal(GatLargeDownstream, changed.Ran);
        Assert.Equal(GatLargeDownstream, changed.Plan.Where(kv => !kv.Value).Select(kv => kv.Key).Order(StringComparer.Ordinal));
        Assert.Equal(GatLargeDownstream.Select(k => k.Split('/')[1]).Order(StringComparer.Ordinal), changed.TargetsBuilt.Order(StringComparer.Ordinal));

        // A deleted marker: the content check decides (up to date: nothing runs, and the marker is back).
        File.Delete(Marker(s, "hcrl_sa", "dqn_large_fusion"));
        var deleted = Build(s, "-p:Dataset=hcrl_sa");
        Assert.Empty(deleted.Ran);
        Assert.Empty(deleted.TargetsBuilt);
        Assert.True(File.Exists(Marker(s, "hcrl_sa", "dqn_large_fusion")));

        // An output edited by hand, its time put back: that stage reruns (its output comes out as before, so nothing downstream).
        var output = Path.Combine(s.RunDir("hcrl_sa", "gat_large_curriculum"), "model.ckpt");
        var time = File.GetLastWriteTimeUtc(output);
        File.AppendAllText(output, "edited\n");
        File.SetLastWriteTimeUtc(output, time);
        var edited = Build(s, "-p:Dataset=hcrl_sa");
        Assert.Equal(["hcrl_sa/gat_large_curriculum"], edited.Ran);
        Assert.Equal(["gat_large_curriculum"], edited.TargetsBuilt);
    }

    [Fact]
    public void StageTargets_BuildPartially_OnlyForTheStaleDataset()
    {
        using var s = Sandbox.Trivial();
        Build(s, "-p:Dataset=\"hcrl_sa hcrl_ch\"");
        File.AppendAllText(s.RawFile("hcrl_ch"), "more frames\n");

        var r = Build(s, "-p:Dataset=\"hcrl_sa hcrl_ch\"");

        Assert.Equal(26, r.Plan.Count);
        Assert.All(r.Plan.Where(kv => kv.Key.StartsWith("hcrl_sa/", StringComparison.Ordinal)), kv => Assert.True(kv.Value));
        Assert.All(r.Plan.Where(kv => kv.Key.StartsWith("hcrl_ch/", StringComparison.Ordinal)), kv => Assert.False(kv.Value));
        Assert.Equal(StageTargets, r.TargetsBuilt);
        foreach (var t in StageTargets) Assert.Matches($"Building target \"{t}\" partially", r.Log);
        Assert.Equal(13, r.Ran.Length);
        Assert.All(r.Ran, k => Assert.StartsWith("hcrl_ch/", k));
    }
}
