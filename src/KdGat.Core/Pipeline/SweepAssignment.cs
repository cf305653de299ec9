using KdGat.Core.Config;

namespace KdGat.Core.Pipeline;

/// <summary>One swept value of an instance: the dimension, its value, and where the dimension is declared ("file(line,col)").</summary>
public sealed record SweepItem(string Name, ParamValue Value, string Source);

/// <summary>
/// The point of the sweep grid one stage instance stands for: its dimensions in declaration order
/// (inherited ones first). Empty for an unswept instance. <see cref="Variant"/>, e.g.
/// <c>seed=1,lr=0.003</c>, is the last component of its run dir and part of its key.
/// </summary>
public sealed class SweepAssignment
{
    public static readonly SweepAssignment None = new([]);

    public SweepAssignment(IReadOnlyList<SweepItem> items)
    {
        Items = items;
        Variant = string.Join(",", items.Select(i => $"{i.Name}={i.Value.Text}"));
    }

    public IReadOnlyList<SweepItem> Items { get; }
    public string Variant { get; }
    public bool IsEmpty => Items.Count == 0;

    public ParamValue? Get(string name) => Items.FirstOrDefault(i => i.Name == name)?.Value;

    /// <summary>True when every dimension both have takes the same value in both.</summary>
    public bool AgreesWith(SweepAssignment other) =>
        Items.All(i => other.Get(i.Name) is not { } v || v == i.Value);

    /// <summary>This assignment plus the dimensions of <paramref name="other"/> it does not have (call only when they agree).</summary>
    public SweepAssignment Union(SweepAssignment other) =>
        other.Items.All(i => Get(i.Name) is not null) ? this : new([.. Items, .. other.Items.Where(i => Get(i.Name) is null)]);

    public SweepAssignment With(SweepItem item) => new([.. Items, item]);

    /// <summary>
    /// The variant as job names, attempt ids and record ids carry it (letters, digits, '_', '.', '-'):
    /// <c>seed=1,lr=0.003</c> is <c>seed_1-lr_0.003</c>.
    /// </summary>
    public string IdText => string.Join("-", Items.Select(i => $"{i.Name}_{i.Value.Text.Replace('+', 'p')}"));

    public override string ToString() => Variant;
}
