using KdGat.Core.IO;
using KdGat.Core.Tests.Engine;
using KdGat.Core.Tests.Support;

namespace KdGat.Core.Tests;

/// <summary>
/// `dotnet KdGat.Core.Tests.dll build ROOT [N]`: one CrashLab build of the pipeline in ROOT, in a
/// process of its own, which the crash tests kill with SIGKILL (at random, or itself at file
/// operation N). Under `dotnet test` this Main is not used (the test host has its own).
/// </summary>
public static class Program
{
    public static async Task<int> Main(string[] args)
    {
        if (args is not ["build", var root, ..]) return 0;
        var plan = args.Length > 2 ? new CrashPoints.Plan(int.Parse(args[2]), CrashPoints.Mode.Kill) : null;
        var r = await CrashLab.BuildAsync(TempDir.Existing(root), plan);
        Console.WriteLine(r.Succeeded ? "built" : "failed");
        return r.Succeeded ? 0 : 1;
    }
}
