namespace KdGat.Core.Execution;

/// <summary>What KdGat adds to a stage's environment beside its KDGAT_* variables.</summary>
internal static class StageEnvironment
{
    /// <summary>
    /// PYTHONDONTWRITEBYTECODE=1 unless the build's environment sets it or PYTHONPYCACHEPREFIX. Python's
    /// import otherwise writes __pycache__/ beside each module it imports: into a code folder, an input
    /// folder, or an upstream's output folder, while the stage runs. In an upstream's outputs that is a
    /// change KDG3017 must refuse, so a stage importing from one was discarded at every build and never
    /// settled (a review). Python still reads a .pyc that is there; it only compiles the rest in memory.
    /// A `setup:` line that exports the variable wins: it runs after this is set.
    /// </summary>
    public static Dictionary<string, string> WithPythonBytecodeRule(Dictionary<string, string> environment, Func<string, string?> buildEnvironment)
    {
        if (buildEnvironment("PYTHONDONTWRITEBYTECODE") is null && buildEnvironment("PYTHONPYCACHEPREFIX") is null)
            environment["PYTHONDONTWRITEBYTECODE"] = "1";
        return environment;
    }
}
