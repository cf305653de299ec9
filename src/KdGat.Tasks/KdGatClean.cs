using KdGat.Core.Engine;

namespace KdGat.Tasks;

/// <summary>Deletes outputs, manifests and logs of the selected datasets (and -p:Stage plus its downstream) so they rerun.</summary>
public sealed class KdGatClean : ChangingTask
{
    public string? Stage { get; set; }

    private protected override string Changes => "delete the selected stages' results (so that they rerun)";

    private protected override bool Change(MSBuildLog log)
    {
        Cleaner.CleanAsync(Request(), Stage, log).GetAwaiter().GetResult(); // MSBuild tasks are synchronous: the one blocking point is here
        return true;
    }
}
