using KdGat.Core.Engine;

namespace KdGat.Tasks;

/// <summary>Deletes outputs, manifests and logs of the selected datasets (and -p:Stage plus its downstream) so they rerun.</summary>
public sealed class KdGatClean : PipelineTask
{
    public string? Stage { get; set; }

    private protected override bool Run(MSBuildLog log)
    {
        Cleaner.CleanAsync(Request(), Stage, log).GetAwaiter().GetResult(); // MSBuild tasks are synchronous: the one blocking point is here
        return true;
    }
}
