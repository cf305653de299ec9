namespace KdGat.Core.Tracking;

/// <summary>
/// Which way a metric improves, from its name, for the report's bold "best" cell. Bolding the
/// highest value made the variant with the most false positives or the largest loss look best (a
/// first-contact review); a count that is neither good nor bad (graphs, epochs) gets no bold.
/// </summary>
internal static class MetricDirection
{
    public enum Better { Unknown, Higher, Lower }

    // Whole name or its last '_'/'-'/'.'-separated word, lower case: "val_loss", "test.fpr", "gat_accuracy".
    private static readonly HashSet<string> Higher = new(StringComparer.Ordinal)
    {
        "accuracy", "acc", "balanced_accuracy", "precision", "recall", "f1", "f1_score", "fscore", "auc", "roc_auc", "auroc",
        "auprc", "ap", "map", "mcc", "specificity", "sensitivity", "tpr", "tnr", "tp", "tn", "iou", "dice", "r2", "kappa", "score", "reward", "return",
        "bleu", "rouge", "meteor", "ndcg", "mrr", "top1", "top5", "hit_rate", "hits",
    };

    private static readonly HashSet<string> Lower = new(StringComparer.Ordinal)
    {
        "fp", "fn", "fpr", "fnr", "far", "eer", "loss", "error", "err", "mse", "mae", "rmse", "nll", "perplexity", "ppl", "latency",
        "false_positives", "false_negatives", "false_alarms", "error_rate", "miss_rate", "wer", "cer",
    };

    /// <summary>
    /// scikit-learn's scorers negate a loss so that higher is better (neg_log_loss, neg_mean_squared_error):
    /// read by their last word, the report bolded the worst. A word "neg" with words after it, anywhere:
    /// cross_validate and GridSearchCV name them test_neg_log_loss, mean_test_neg_mean_squared_error (a review).
    /// </summary>
    private const string Negated = "neg";

    public static Better Of(string metric)
    {
        var name = metric.Trim().ToLowerInvariant();
        var words = name.Split(['_', '-', '.']);
        if (Array.IndexOf(words, Negated) is var at and >= 0 && at < words.Length - 1) return Better.Higher;
        var last = name[(name.LastIndexOfAny(['_', '-', '.']) + 1)..];
        foreach (var candidate in new[] { name, last })
        {
            if (Higher.Contains(candidate)) return Better.Higher;
            if (Lower.Contains(candidate)) return Better.Lower;
        }
        return Better.Unknown;
    }

    /// <summary>
    /// The best of <paramref name="values"/> for <paramref name="metric"/>; null for a metric of no known
    /// direction or no values. A diverged run's NaN or infinity is never the best (a loss of -inf was the lowest).
    /// </summary>
    public static double? Best(string metric, IEnumerable<double> values)
    {
        var all = values.Where(double.IsFinite).ToArray();
        if (all.Length == 0) return null;
        return Of(metric) switch
        {
            Better.Higher => all.Max(),
            Better.Lower => all.Min(),
            _ => null,
        };
    }
}
