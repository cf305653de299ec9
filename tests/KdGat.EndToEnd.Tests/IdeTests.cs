using System.Text.Json;
using KdGat.Core.Engine;
using KdGat.Testing;
using Xunit;

namespace KdGat.EndToEnd.Tests;

/// <summary>pipeline.proj as IDEs and solution builds see it (targets/KdGat.DesignTime.targets, KdGat.sln).</summary>
[Trait("Category", "EndToEnd")]
public sealed class IdeTests
{
    /// <summary>The targets the .NET project system and the ProjectReference protocol call (dotnet/project-system docs/design-time-builds.md).</summary>
    private static readonly string[] DesignTimeTargets =
    [
        "ResolveAssemblyReferencesDesignTime", "ResolveProjectReferencesDesignTime", "ResolveProjectReferencesDesignTime2",
        "ResolveComReferencesDesignTime", "ResolveFrameworkReferencesDesignTime", "ResolvePackageDependenciesDesignTime",
        "CollectAnalyzersDesignTime", "CollectCentralPackageVersions", "CollectCopyToOutputDirectoryItemDesignTime",
        "CollectFrameworkReferences", "CollectPackageDownloads", "CollectPackageReferences",
        "CollectResolvedCompilationReferencesDesignTime", "CollectResolvedSDKReferencesDesignTime", "CollectSuggestedWorkloads",
        "CollectUpToDateCheckBuiltDesignTime", "CollectUpToDateCheckInputDesignTime", "CollectUpToDateCheckOutputDesignTime",
        "CompileDesignTime", "GenerateSupportedTargetFrameworkAlias", "BuiltProjectOutputGroup",
        "ResolveAssemblyReferences", "GetTargetPath", "GetTargetFrameworks", "GetCopyToOutputDirectoryItems", "Build",
    ];

    /// <summary>dotnet msbuild in the sandbox with no tools and no sources: anything that needed the tools would fail with KDG1206.</summary>
    private static ProcessResult Bare(Sandbox s, params string[] args) =>
        ProcessRunner.Run("dotnet", new[] { "msbuild", "pipeline.proj", "-nologo", "-v:m" }.Concat(args), s.Dir, TimeSpan.FromMinutes(3));

    [Fact]
    public void DesignTimeBuild_OfEveryIdeTarget_SucceedsWithoutToolsOrStages()
    {
        using var s = Sandbox.Trivial();

        var r = Bare(s, "-p:DesignTimeBuild=true", "-t:" + string.Join(';', DesignTimeTargets));

        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.DoesNotContain("KDG", r.Output);
        Assert.False(Directory.Exists(Path.Combine(s.Dir, ".kdgat")), "a design-time build bootstrapped tools or ran something");
        Assert.False(Directory.Exists(Path.Combine(s.Dir, "experimentruns")));
        Assert.False(Directory.Exists(Path.Combine(s.Dir, "data")));
    }

    [Fact]
    public void Stages_AreItemsAtEvaluationTime_AndKdGatStagesAddsTheirNeeds()
    {
        using var s = Sandbox.Trivial();

        var evaluated = Bare(s, "-getItem:KdGatStageDefinition");
        var withNeeds = Bare(s, "-t:KdGatStages", "-getTargetResult:KdGatStages");

        Assert.True(evaluated.ExitCode == 0, evaluated.ToString());
        Assert.True(withNeeds.ExitCode == 0, withNeeds.ToString());
        var names = JsonDocument.Parse(evaluated.Output).RootElement.GetProperty("Items").GetProperty("KdGatStageDefinition")
            .EnumerateArray().Select(i => i.GetProperty("Identity").GetString()!).Order(StringComparer.Ordinal).ToArray();
        var stages = JsonDocument.Parse(withNeeds.Output).RootElement.GetProperty("TargetResults").GetProperty("KdGatStages").GetProperty("Items")
            .EnumerateArray().ToDictionary(i => i.GetProperty("Identity").GetString()!, i => i.TryGetProperty("Needs", out var n) ? n.GetString() : "");
        Assert.Equal(13, names.Length);
        Assert.Equal(names, stages.Keys.Order(StringComparer.Ordinal));
        Assert.Equal("preprocess;vgae_large_autoencoder;gat_large_curriculum", stages["dqn_large_fusion"]);
        Assert.False(Directory.Exists(Path.Combine(s.Dir, ".kdgat")));
    }

    [Fact]
    public void StageTargetWithoutDefinition_IsKdg1212()
    {
        using var s = Sandbox.Trivial();
        var proj = Path.Combine(s.Dir, "pipeline.proj");
        File.WriteAllText(proj, File.ReadAllText(proj).Replace("gat_small_curriculum;dqn_small_fusion\" />", "dqn_small_fusion\" />"));

        var r = s.Build("-t:Explain", "-p:Dataset=hcrl_sa");

        Assert.NotEqual(0, r.ExitCode);
        Assert.Matches(@"pipeline\.proj.*error KDG1212: stage\(s\) gat_small_curriculum ", r.Output);
    }

    [Fact]
    public void BuildTarget_AsAnIdeRunsIt_RunsTheStaleStagesOfTheDefaultSelection()
    {
        using var s = Sandbox.Trivial();
        // An IDE's Build calls the Build target by name (plain `dotnet build pipeline.proj` would run the default target).
        var args = new[] { "build", "pipeline.proj", "-t:Build", "-nologo", "-v:m", "-tl:off", $"-p:KdGatToolsDir={Tools.Path}", "-p:KdGatSkipBootstrap=true" };

        var first = ProcessRunner.Run("dotnet", args, s.Dir, TimeSpan.FromMinutes(5));
        Assert.True(first.ExitCode == 0, first.ToString());
        Assert.Equal(78, Sandbox.With(s.LastBuild(), Outcome.Ran).Length);

        var second = ProcessRunner.Run("dotnet", args, s.Dir, TimeSpan.FromMinutes(5));
        Assert.True(second.ExitCode == 0, second.ToString());
        Assert.Equal(78, Sandbox.With(s.LastBuild(), Outcome.UpToDate).Length);
    }

    [Fact]
    public void ToolProjectsBuiltByTheSolution_AreCompiledAgainByTheBootstrap_AndTheStampNamesTheSdk()
    {
        var tools = Path.Combine(Path.GetTempPath(), "kdgat-ide-tools-" + Guid.NewGuid().ToString("N")[..8]);
        ProcessResult Bootstrap() => ProcessRunner.Run("dotnet", ["msbuild", "pipeline.proj", "-t:_KdGatBootstrap", $"-p:KdGatToolsDir={tools}", "-v:n", "-nologo"],
            Repo.Root, TimeSpan.FromMinutes(8));
        try
        {
            using (Tools.Lock())
            {
                // What `dotnet build KdGat.sln` (Debug) does to the tool projects.
                foreach (var project in new[] { "src/KdGat.Tasks/KdGat.Tasks.csproj", "src/KdGat.Sample/KdGat.Sample.csproj" })
                {
                    var built = ProcessRunner.Run("dotnet", ["build", project, "-nologo", "-v:q"], Repo.Root, TimeSpan.FromMinutes(8));
                    Assert.True(built.ExitCode == 0, built.ToString());
                }
                var r = Bootstrap();
                Assert.True(r.ExitCode == 0, r.ToString());
                Assert.Contains("KdGat: building tools", r.Output);
                // Outputs newer than their sources say nothing about which sources they were compiled
                // from (a source edited with an old time): when its stamp differs, the bootstrap compiles.
                Assert.DoesNotContain(@"Skipping target ""CoreCompile"" because all output files are up-to-date", r.Output);
                Assert.True(File.Exists(Path.Combine(tools, "KdGat.Tasks.dll")) && File.Exists(Path.Combine(tools, "KdGat.Sample.dll")));

                var sdk = ProcessRunner.Run("dotnet", ["--version"], Repo.Root).Output.Trim();
                var stamp = Tools.Stamp(tools);
                Assert.Contains($" sdk {sdk} ", stamp);

                // Tools from another SDK are not trusted.
                var core = Path.Combine(tools, "KdGat.Core.dll");
                // Held open as a server holds it mapped: the old inode's number cannot go to a new file.
                using var held = File.OpenRead(core);
                var before = KdGat.Core.Hashing.PathStat.Of(core).Inode;
                Tools.SetStamp(tools, stamp.Replace($" sdk {sdk} ", " sdk 9.0.100 "));
                Assert.Contains("KdGat: building tools", Bootstrap().Output);
                // A new file, not the old one rewritten (MSBuild's Copy does that): an MSBuild server that has it mapped keeps running intact (MSBuildServerTests).
                Assert.NotEqual(before, KdGat.Core.Hashing.PathStat.Of(core).Inode);
                Assert.DoesNotContain("KdGat: building tools", Bootstrap().Output);
            }
        }
        finally
        {
            if (Directory.Exists(tools)) Directory.Delete(tools, recursive: true);
        }
    }

    [Fact]
    public void VSTest_OnThePipeline_RunsNothing()
    {
        using var s = Sandbox.Trivial();

        var r = Bare(s, "-t:VSTest");

        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.False(Directory.Exists(Path.Combine(s.Dir, ".kdgat")));
    }

    [Fact]
    public void Solution_ListsThePipeline_AndBuildsItOnlyInThePipelineConfiguration()
    {
        var list = ProcessRunner.Run("dotnet", ["sln", "KdGat.sln", "list"], Repo.Root, TimeSpan.FromMinutes(2));
        Assert.True(list.ExitCode == 0, list.ToString());
        Assert.Contains("pipeline.proj", list.Output.Split('\n').Select(l => l.Trim()));

        var dir = Path.Combine(Path.GetTempPath(), "kdgat-sln-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(dir);
        try
        {
            File.Copy(Path.Combine(Repo.Root, "KdGat.sln"), Path.Combine(dir, "KdGat.sln"));
            foreach (var (configuration, built) in new[] { ("Debug", false), ("Release", false), ("Pipeline", true) })
            {
                var r = ProcessRunner.Run("dotnet", ["msbuild", "KdGat.sln", "-t:ValidateSolutionConfiguration", $"-p:Configuration={configuration}", "-nologo", "-v:q"],
                    dir, TimeSpan.FromMinutes(2), new Dictionary<string, string> { ["MSBuildEmitSolution"] = "1" });
                Assert.True(r.ExitCode == 0, r.ToString());
                // The solution's build targets reference a project's metaproj only when the configuration builds it.
                var metaproj = File.ReadAllText(Path.Combine(dir, "KdGat.sln.metaproj"));
                Assert.True(built == metaproj.Contains("pipeline.proj.metaproj\"", StringComparison.Ordinal), configuration);
                if (built) Assert.Contains("KdGat.Tasks.csproj", File.ReadAllText(Path.Combine(dir, "pipeline.proj.metaproj"))); // built after the tools
            }
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    /// <summary>
    /// A solution of the user's own that lists pipeline.proj (dotnet sln add: its Debug and Release
    /// build it) calls the default target, Clean and Rebuild: none of them may run or delete a stage
    /// there. Before, `dotnet clean` of such a solution deleted every dataset's results and its
    /// Rebuild ran every stage again (a review). The solution's Pipeline configuration opts in.
    /// </summary>
    [Fact]
    public void ASolutionOfYourOwn_InDebug_NeitherRunsNorDeletesStages()
    {
        using var s = Sandbox.Trivial();
        Run(s, "dotnet", "new", "sln", "-n", "mine", "--format", "sln");
        Run(s, "dotnet", "sln", "mine.sln", "add", "pipeline.proj");
        string[] props = [$"-p:KdGatToolsDir={Tools.Path}", "-p:KdGatSkipBootstrap=true", "-nologo", "-v:m", "-tl:off"];

        var build = Run(s, ["dotnet", "build", "mine.sln", .. props]);
        Assert.False(Directory.Exists(Path.Combine(s.Dir, "experimentruns")), build.ToString());
        Assert.Contains("runs and deletes no stage", build.Output);
        Assert.DoesNotContain("NU1503", build.Output); // "Skipping restore for project pipeline.proj" on every build of it

        Assert.Equal(0, s.Build().ExitCode); // the pipeline itself, as the README says
        var built = s.LastBuild().BuildId;
        var manifests = Directory.GetFiles(Path.Combine(s.Dir, "experimentruns"), "*.json", SearchOption.AllDirectories).Length;

        Run(s, ["dotnet", "clean", "mine.sln", .. props]);
        Run(s, ["dotnet", "build", "mine.sln", "-t:Rebuild", .. props]);
        Run(s, ["dotnet", "build", "mine.sln", .. props]);

        Assert.Equal(built, s.LastBuild().BuildId); // nothing ran
        Assert.Equal(manifests, Directory.GetFiles(Path.Combine(s.Dir, "experimentruns"), "*.json", SearchOption.AllDirectories).Length); // nothing deleted
    }

    private static ProcessResult Run(Sandbox s, params string[] command)
    {
        var r = ProcessRunner.Run(command[0], command[1..], s.Dir, TimeSpan.FromMinutes(5));
        Assert.True(r.ExitCode == 0, r.ToString());
        return r;
    }
}
