using KdGat.Core.Diagnostics;
using KdGat.Core.Pipeline;

namespace KdGat.Core.Engine;

/// <summary>
/// A sweep point today's grid no longer has, as an instance: what recovering an attempt a crash
/// interrupted on it needs (its run dir, state dir, outputs), made from an instance of the same stage.
/// </summary>
internal static class FormerPoint
{
    /// <summary>Null when the folder name is not a point's ("NAME=VALUE,...") or today's configuration cannot describe it.</summary>
    public static StageInstance? Of(StageInstance sibling, string variant)
    {
        var items = variant.Split(',').Select(part => part.Split('=', 2)).ToArray();
        if (items.Any(i => i.Length != 2 || i[0].Length == 0)) return null; // a folder of the user's own
        StageInstance point;
        try
        {
            point = new StageInstance(sibling.Layout, sibling.Dataset, sibling.Config, sibling.Upstreams,
                new SweepAssignment(items.Select(i => new SweepItem(i[0], Config.ParamValue.FromScalar(i[1], quoted: true), "former sweep point")).ToArray()));
        }
        catch (KdgException)
        {
            return null;
        }
        return point.Slot == $"{sibling.Name}/{variant}" ? point : null;
    }
}
