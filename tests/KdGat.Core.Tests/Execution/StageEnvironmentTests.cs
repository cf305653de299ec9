using KdGat.Core.Execution;

namespace KdGat.Core.Tests.Execution;

/// <summary>
/// Python's imports write no __pycache__ into what a stage reads (an upstream's output folder: KDG3017 at
/// every build, a review), unless the user chose otherwise in the build's environment.
/// </summary>
[Trait("Category", "Unit")]
public sealed class StageEnvironmentTests
{
    [Fact]
    public void WithoutAChoiceOfTheUsers_StagesWriteNoPythonBytecode()
    {
        var env = StageEnvironment.WithPythonBytecodeRule(new() { ["KDGAT_STAGE"] = "fit" }, _ => null);
        Assert.Equal("1", env["PYTHONDONTWRITEBYTECODE"]);
        Assert.Equal("fit", env["KDGAT_STAGE"]);
    }

    [Theory]
    [InlineData("PYTHONDONTWRITEBYTECODE", "")]
    [InlineData("PYTHONDONTWRITEBYTECODE", "1")]
    [InlineData("PYTHONPYCACHEPREFIX", "/scratch/pyc")]
    public void TheUsersOwnSetting_IsLeftAsItIs(string name, string value)
    {
        var env = StageEnvironment.WithPythonBytecodeRule([], n => n == name ? value : null);
        Assert.False(env.ContainsKey("PYTHONDONTWRITEBYTECODE"));
    }
}
