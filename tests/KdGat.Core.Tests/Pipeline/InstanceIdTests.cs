using KdGat.Core.Diagnostics;
using KdGat.Core.Execution.Slurm;
using KdGat.Core.Pipeline;
using KdGat.Core.Tests.Support;

namespace KdGat.Core.Tests.Pipeline;

/// <summary>
/// Every instance of one build has an id of its own (attempt and run record ids, SLURM job names and
/// comments: <see cref="StageInstance.Id"/>) and a run dir of its own, across stages and datasets:
/// KDG1034 within one stage's grid, KDG1035 across stages or datasets.
/// </summary>
[Trait("Category", "Unit")]
public sealed class InstanceIdTests : IDisposable
{
    private TestPipeline? _p;
    public void Dispose() => _p?.Dispose();

    private IReadOnlyList<StageInstance> Load(string stagesYaml, string datasets, params StageDeclaration[] decl)
    {
        _p = new TestPipeline($$"""
            datasets: {{datasets}}
            paths: { runs: runs, raw: 'raw/{dataset}', cache: 'cache/{dataset}' }
            stages:
            {{stagesYaml}}
            """);
        return _p.Instances(decl);
    }

    /// <summary>
    /// Stage names are free text: 'a.b_1' got the id of stage 'a' at b=1, so the build indexed one run
    /// record of the two (History and Status showed no run of a at b=1), and a job found by its
    /// --comment would have been taken for the other's (found by review, reproduced with -t:Evaluate).
    /// </summary>
    [Fact]
    public void AStageNamedLikeAnotherStagesSweepPoint_IsKdg1035_NamingBothStagesAndWhere()
    {
        var e = Assert.Throws<KdgException>(() => Load("""
              a: { command: x, outputs: [out.txt], sweep: { b: [1, 2] } }
              a.b_1: { command: x, outputs: [out.txt] }
            """, "[d]", new("a", []), new("a.b_1", [])));

        Assert.Equal(ErrorCodes.InstanceIdClash, e.Code);
        Assert.Contains("stage 'a.b_1' of dataset 'd' and stage 'a' (b=1) of dataset 'd' (at kdgat.yaml(4,6))", e.Message);
        Assert.Contains("'d-a.b_1'", e.Message);
        Assert.Contains("Rename stage 'a.b_1' or 'a'", e.Message);
        Assert.Equal(_p!.ConfigFile, e.File);
        Assert.Equal(5, e.Line);
    }

    [Fact]
    public void AStageAndADatasetWithDashes_GivingAnotherDatasetsId_IsKdg1035()
    {
        // dataset x, stage a-b and dataset x-a, stage b: both x-a-b
        var e = Assert.Throws<KdgException>(() => Load("""
              b: { command: x, outputs: [out.txt] }
              a-b: { command: x, outputs: [out.txt] }
            """, "[x, x-a]", new("b", []), new("a-b", [])));

        Assert.Equal(ErrorCodes.InstanceIdClash, e.Code);
        Assert.Contains("stage 'b' of dataset 'x-a' and stage 'a-b' of dataset 'x'", e.Message);
        Assert.Contains("'x-a-b'", e.Message);
        Assert.Contains("or dataset 'x-a' or 'x'", e.Message);
    }

    [Fact]
    public void AStageNamedLikeAnotherStagesPointsRunDir_IsRefusedByItsName_Kdg1105()
    {
        // It would share the run dir 'runs/d/a/b=1' (manifest, logs) with a point of a's grid: a
        // stage name has no '=' (KDG1105), so only a sweep point's run dir has one.
        var e = Assert.Throws<KdgException>(() => Load("""
              a: { command: x, outputs: ['{cache_dir}/a_{sweep.b}'], sweep: { b: [1, 2] } }
              'a/b=1': { command: x, outputs: ['{cache_dir}/other'] }
            """, "[d]", new("a", []), new("a/b=1", [])));

        Assert.Equal(ErrorCodes.InvalidStageName, e.Code);
        Assert.Contains("'a/b=1'", e.Message);
    }

    [Fact]
    public void TwoPointsOfOneGrid_WithOneId_AreStillKdg1034()
    {
        // '+' is 'p' in ids
        var e = Assert.Throws<KdgException>(() => Load("  a: { command: x, outputs: [out.txt], sweep: { lr: ['1e+3', '1ep3'] } }\n", "[d]", new StageDeclaration("a", [])));

        Assert.Equal(ErrorCodes.SweepIdClash, e.Code);
        Assert.Contains("stage 'a': two points of its sweep grid give the same job and record id 'a.lr_1ep3'", e.Message);
    }

    [Fact]
    public void DistinctStagesAndDatasets_LoadWithDistinctIds_AsJobNamesCarryThem()
    {
        var s = Load("""
              a: { command: x, outputs: [out.txt], sweep: { b: [1, 2] } }
              a_b_1: { command: x, outputs: [out.txt] }
            """, "[x, y-z]", new("a", []), new("a_b_1", []));

        Assert.Equal(["x-a.b_1", "x-a.b_2", "x-a_b_1", "y-z-a.b_1", "y-z-a.b_2", "y-z-a_b_1"], s.Select(i => i.Id));
        Assert.Equal("kdgat-y-z-a.b_2", JobScript.JobName(s[4]));
    }
}
