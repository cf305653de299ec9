using KdGat.Core.Diagnostics;
using Microsoft.Build.Framework;

namespace KdGat.Tasks;

/// <summary>
/// A task whose work is to delete or change what a pipeline keeps (Clean, CacheGc). Under MSBuild's
/// -question it changes nothing and fails, as MSBuild's own Delete does when it has work: -t:Clean
/// -question deleted every selected result, and -t:CacheGc -question evicted entries (a review).
/// </summary>
public abstract class ChangingTask : PipelineTask, IIncrementalTask
{
    /// <summary>Set by MSBuild under -question.</summary>
    public bool FailIfNotIncremental { get; set; }

    /// <summary>-p:FailIfStale=true, the gate -question is: -t:Rebuild with it deleted every selected result, then refused to build (a review).</summary>
    public string? FailIfStale { get; set; }

    /// <summary>What the task would change, for the -question error ("delete the selected stages' results").</summary>
    private protected abstract string Changes { get; }

    private protected sealed override bool Run(MSBuildLog log)
    {
        return GateAsked(FailIfNotIncremental, FailIfStale) is not { } asked ? Change(log) : NotUpToDate(log, asked, GetType().Name["KdGat".Length..], Changes);
    }

    private protected abstract bool Change(MSBuildLog log);
}
