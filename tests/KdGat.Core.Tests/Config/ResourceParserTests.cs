using KdGat.Core.Config;
using KdGat.Core.Diagnostics;
using KdGat.Core.Tests.Support;

namespace KdGat.Core.Tests.Config;

[Trait("Category", "Unit")]
public sealed class ResourceParserTests : IDisposable
{
    private readonly TempDir _dir = new();
    public void Dispose() => _dir.Dispose();

    private ResourceSpec Load(string resources)
    {
        var file = _dir.Write("kdgat.yaml", $"datasets: [d1]\nstages:\n  a:\n    command: x\n    outputs: [y]\n    resources: {resources}\n");
        return ConfigLoader.Load(file, _dir.Path).Stages["a"].Resources;
    }

    [Theory]
    [InlineData("512M", 512)]
    [InlineData("512", 512)]
    [InlineData("8G", 8192)]
    [InlineData("8g", 8192)]
    [InlineData("128GB", 131072)]
    [InlineData("2GiB", 2048)]
    [InlineData("1.5G", 1536)]
    [InlineData("1T", 1048576)]
    [InlineData("2048K", 2)]
    public void ParseMemMb_ValidSizes(string text, long mb) => Assert.Equal(mb, ResourceParser.ParseMemMb(text));

    [Theory]
    [InlineData("lots")]
    [InlineData("")]
    [InlineData("-1G")]
    [InlineData("0")]
    [InlineData("12Q")]
    [InlineData("1K")] // below one megabyte
    [InlineData("\u0668G")] // an Arabic-Indic eight: \d matched it and double.Parse threw (KDG9001; a SLURM pass)
    [InlineData("\uff18G")] // a full-width eight
    [InlineData("99999999999999999999T")] // accepted, capped at long.MaxValue: an OOM retry's mem x attempt overflowed (a review)
    [InlineData("1025T")]
    public void ParseMemMb_Invalid_IsNull(string text) => Assert.Null(ResourceParser.ParseMemMb(text));

    [Theory]
    [InlineData("90", 90)]
    [InlineData("01:30:00", 90)]
    [InlineData("00:30:01", 31)]
    [InlineData("02:00", 2)] // M:S, as sbatch reads it
    [InlineData("90:30", 91)]
    [InlineData("1-12", 2160)] // D-H
    [InlineData("2-0:30", 2910)] // D-H:M
    [InlineData("1-12:00:00", 2160)]
    [InlineData("36500-0", 52_560_000)] // 100 years, the most
    [InlineData("0:59:59", 60)]
    [InlineData("UNLIMITED", ResourceParser.UnlimitedMinutes)] // sbatch's no-limit words, in any case
    [InlineData("unlimited", ResourceParser.UnlimitedMinutes)]
    [InlineData("INFINITE", ResourceParser.UnlimitedMinutes)]
    [InlineData("infinite", ResourceParser.UnlimitedMinutes)]
    public void ParseMinutes_ValidTimes(string text, int minutes) => Assert.Equal(minutes, ResourceParser.ParseMinutes(text));

    [Theory]
    [InlineData("99:99:99")]
    [InlineData("01:60:00")]
    [InlineData("01:00:60")]
    [InlineData("1-24:00:00")]
    [InlineData("0")]
    [InlineData("00:00:00")]
    [InlineData("-5")]
    [InlineData("1:2:3:4")]
    [InlineData("0:00")]
    [InlineData("1:")]
    [InlineData("soon")]
    [InlineData("36500-0:01")] // over 100 years
    [InlineData("3000000-0")] // wrapped around an int to a positive 25032704 (a SLURM pass)
    [InlineData("1500000-0")] // wrapped to a negative
    [InlineData("99999999999")]
    [InlineData("1h")]
    public void ParseMinutes_Invalid_IsNull(string text) => Assert.Null(ResourceParser.ParseMinutes(text));

    /// <summary>Values sbatch takes that were refused (found by review): several partitions, no time limit.</summary>
    [Fact]
    public void Read_AcceptsAPartitionList_AndAnUnlimitedTime_AsSbatchDoes()
    {
        var r = Load("{ partition: 'cpu,gpu', time: UNLIMITED }");
        Assert.Equal("cpu,gpu", r.Partition);
        Assert.Equal(ResourceParser.UnlimitedMinutes, r.TimeMinutes);
    }

    [Theory]
    [InlineData("{ mem: lots }", "mem", 23)]
    [InlineData("{ time: '99:99:99' }", "time", 24)]
    [InlineData("{ partition: 'gpu;rm' }", "partition", 29)]
    [InlineData("{ partition: 'cpu,,gpu' }", "partition", 29)]
    [InlineData("{ partition: 'cpu, gpu' }", "partition", 29)]
    [InlineData("{ time: 'forever' }", "time", 24)]
    [InlineData("{ extra: ['rm -rf /'] }", "extra", 25)]
    public void Read_BadValue_IsKdg1008AtTheValue(string resources, string key, int column)
    {
        var e = Assert.Throws<KdgException>(() => Load(resources));

        Assert.Equal(ErrorCodes.BadResource, e.Code);
        Assert.Equal(_dir["kdgat.yaml"], e.File);
        Assert.Equal((6, column), (e.Line, e.Column));
        Assert.Contains($"'stage 'a'.resources.{key}'", e.Message);
    }

    [Theory]
    [InlineData("{ cpus: -2 }", "cpus")]
    [InlineData("{ cpus: 0 }", "cpus")]
    [InlineData("{ cpus: many }", "cpus")]
    [InlineData("{ gpus: -1 }", "gpus")]
    [InlineData("{ gpus: 'a100:' }", "gpus")]
    [InlineData("{ gpus: 'a1 00:2' }", "gpus")]
    [InlineData("{ gpus: ':2' }", "gpus")]
    [InlineData("{ gpus: 'a100:two' }", "gpus")]
    public void Read_BadCount_IsKdg1008(string resources, string key)
    {
        var e = Assert.Throws<KdgException>(() => Load(resources));

        Assert.Equal(ErrorCodes.BadResource, e.Code);
        Assert.Equal(6, e.Line);
        Assert.Contains($"resources.{key}", e.Message);
    }

    [Fact]
    public void Read_AllKeys_AreParsed()
    {
        var r = Load("{ cpus: 4, gpus: 0, mem: 16G, time: '1-00:00:00', partition: gpu-a100, account: lab.x, qos: high, extra: ['--constraint=a100'] }");

        Assert.Equal((4, 0, 16384L, 1440), (r.Cpus!.Value, r.Gpus!.Value, r.MemMb!.Value, r.TimeMinutes!.Value));
        Assert.Equal(("gpu-a100", "lab.x", "high"), (r.Partition, r.Account, r.Qos));
        Assert.Equal(["--constraint=a100"], r.Extra);
    }

    [Theory]
    [InlineData("{ gpus: a100:2 }", 2, "a100")]       // a plain scalar in a flow mapping
    [InlineData("{ gpus: 'nvidia_h100:1' }", 1, "nvidia_h100")]
    [InlineData("{ gpus: 3 }", 3, null)]
    public void Read_Gpus_CountOrTypeAndCount(string resources, int count, string? type)
    {
        var r = Load(resources);

        Assert.Equal((count, type), (r.Gpus!.Value, r.GpuType));
        Assert.Contains($"gpus={(type is null ? "" : type + ":")}{count}", r.Describe());
    }

    [Fact]
    public void OverriddenBy_AStageGpuCountWithoutType_DropsTheDefaultsType()
    {
        var defaults = new ResourceSpec { Gpus = 1, GpuType = "a100" };

        Assert.Equal((1, "a100"), (defaults.OverriddenBy(new ResourceSpec { MemMb = 1 }).Gpus, defaults.OverriddenBy(new ResourceSpec { MemMb = 1 }).GpuType));
        Assert.Equal((2, (string?)null), (defaults.OverriddenBy(new ResourceSpec { Gpus = 2 }).Gpus, defaults.OverriddenBy(new ResourceSpec { Gpus = 2 }).GpuType));
    }

    [Fact]
    public void OverriddenBy_StageWinsKeyByKeyAndExtrasAddUp()
    {
        var defaults = new ResourceSpec { Cpus = 1, MemMb = 2048, TimeMinutes = 30, Extra = ["--a"] };

        var r = defaults.OverriddenBy(new ResourceSpec { MemMb = 8192, Gpus = 1, Extra = ["--b"] });

        Assert.Equal(1, r.Cpus);
        Assert.Equal(8192, r.MemMb);
        Assert.Equal(30, r.TimeMinutes);
        Assert.Equal(1, r.Gpus);
        Assert.Equal(["--a", "--b"], r.Extra);
    }

    [Fact]
    public void Read_EnvironmentVariables_AreExpandedWhenTheConfigLoads()
    {
        var account = "KDGAT_TEST_ACCOUNT_" + Guid.NewGuid().ToString("N")[..8];
        var partition = "KDGAT_TEST_PARTITION_" + Guid.NewGuid().ToString("N")[..8];
        Environment.SetEnvironmentVariable(account, "lab42");
        Environment.SetEnvironmentVariable(partition, "gpu");
        try
        {
            var r = Load($"{{ account: '${{{account}}}', partition: '${{{partition}}}-a100', extra: ['--constraint=${{{partition}}}'] }}");
            Assert.Equal("lab42", r.Account);
            Assert.Equal("gpu-a100", r.Partition);
            Assert.Equal(["--constraint=gpu"], r.Extra);
        }
        finally
        {
            Environment.SetEnvironmentVariable(account, null);
            Environment.SetEnvironmentVariable(partition, null);
        }
    }

    [Fact]
    public void Read_UnsetEnvironmentVariable_IsKdg1025NamingFileStageFieldAndVariable()
    {
        var name = "KDGAT_TEST_UNSET_" + Guid.NewGuid().ToString("N")[..8];
        var e = Assert.Throws<KdgException>(() => Load($"{{ mem: 2G, account: '${{{name}}}' }}"));

        Assert.Equal(ErrorCodes.ResourceVariableUnset, e.Code);
        Assert.Equal(_dir["kdgat.yaml"], e.File);
        Assert.Equal((6, 36), (e.Line, e.Column));
        Assert.Contains("stage 'a'.resources.account", e.Message);
        Assert.Contains("${" + name + "}", e.Message);
        Assert.Contains($"export {name}=", e.Message);
    }

    /// <summary>
    /// $NAME as well as ${NAME}, as in paths (found by review: 'account: $SLURM_ACCOUNT' was refused
    /// as a bad name, and '--mail-user=$USER' in extra reached sbatch literally: SLURM expands no
    /// variables in #SBATCH lines).
    /// </summary>
    [Fact]
    public void Read_DollarNameWithoutBraces_IsExpandedLikeInPaths()
    {
        var account = "KDGAT_TEST_ACCOUNT_" + Guid.NewGuid().ToString("N")[..8];
        var partition = "KDGAT_TEST_PARTITION_" + Guid.NewGuid().ToString("N")[..8];
        Environment.SetEnvironmentVariable(account, "lab42");
        Environment.SetEnvironmentVariable(partition, "gpu");
        try
        {
            var r = Load($"{{ account: '${account}', partition: '${partition},${{{partition}}}-a100', extra: ['--mail-user=${account}.x', '--constraint=${partition}'] }}");
            Assert.Equal("lab42", r.Account);
            Assert.Equal("gpu,gpu-a100", r.Partition);
            Assert.Equal(["--mail-user=lab42.x", "--constraint=gpu"], r.Extra);
        }
        finally
        {
            Environment.SetEnvironmentVariable(account, null);
            Environment.SetEnvironmentVariable(partition, null);
        }
    }

    [Fact]
    public void Read_UnsetDollarName_IsKdg1025NamingFileStageFieldAndVariable()
    {
        var name = "KDGAT_TEST_UNSET_" + Guid.NewGuid().ToString("N")[..8];
        var e = Assert.Throws<KdgException>(() => Load($"{{ mem: 2G, extra: ['--mail-user=${name}'] }}"));

        Assert.Equal(ErrorCodes.ResourceVariableUnset, e.Code);
        Assert.Equal(_dir["kdgat.yaml"], e.File);
        Assert.Equal((6, 34), (e.Line, e.Column));
        Assert.Contains("stage 'a'.resources.extra", e.Message);
        Assert.Contains("uses $" + name + ",", e.Message);
        Assert.Contains($"export {name}=", e.Message);
    }

    /// <summary>An extra line setting an option KdGat writes itself won (it comes after): '--output=slurm-%j.out' lost the stage's logs (a review).</summary>
    [Theory]
    [InlineData("--output=slurm-%j.out", "output")]
    [InlineData("--out=x.log", "output")]
    [InlineData("--error=x.err", "error")]
    [InlineData("--job-name=mine", "job-name")]
    [InlineData("--comment=x", "comment")]
    [InlineData("--array=0-3", "array")]
    [InlineData("--ou=x.log", "output")] // sbatch takes a unique prefix however short
    [InlineData("--j=mine", "job-name")]
    [InlineData("--ar=0-3", "array")]
    public void Read_AnExtraSettingAnOptionKdGatSets_IsKdg1008(string extra, string option)
    {
        var e = Assert.Throws<KdgException>(() => Load($"{{ extra: ['--constraint=a100', '{extra}'] }}"));

        Assert.Equal(ErrorCodes.BadResource, e.Code);
        Assert.Equal(_dir["kdgat.yaml"], e.File);
        Assert.Contains($"sets (or abbreviates) --{option}, which KdGat sets for every job itself", e.Message);
    }

    [Fact]
    public void Read_ExtrasKdGatDoesNotSet_AreKept() =>
        Assert.Equal(["--constraint=a100", "--mail-type=END", "--exclusive", "--export=ALL"], Load("{ extra: ['--constraint=a100', '--mail-type=END', '--exclusive', '--export=ALL'] }").Extra);

    [Fact]
    public void Read_ADollarNotFollowedByAName_StaysAsWritten() =>
        Assert.Equal(["--mail-user=5$", "--mail-user=a$1", "--mail-user=$-x"], Load("{ extra: ['--mail-user=5$', '--mail-user=a$1', '--mail-user=$-x'] }").Extra);
}
