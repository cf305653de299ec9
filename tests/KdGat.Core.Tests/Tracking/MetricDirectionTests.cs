using KdGat.Core.Tracking;

namespace KdGat.Core.Tests.Tracking;

[Trait("Category", "Unit")]
public sealed class MetricDirectionTests
{
    [Theory]
    [InlineData("accuracy", "Higher")]
    [InlineData("gat_accuracy", "Higher")]
    [InlineData("F1", "Higher")]
    [InlineData("test.roc_auc", "Higher")]
    [InlineData("fp", "Lower")]
    [InlineData("fn", "Lower")]
    [InlineData("val_loss", "Lower")]
    [InlineData("test-mse", "Lower")]
    [InlineData("graphs", "Unknown")]
    [InlineData("epochs", "Unknown")]
    public void Of_ReadsTheDirectionFromTheNameOrItsLastWord(string metric, string expected) =>
        Assert.Equal(expected, MetricDirection.Of(metric).ToString());

    /// <summary>scikit-learn's negated losses are higher-is-better: by their last word the report bolded the worst.</summary>
    [Theory]
    [InlineData("neg_log_loss")]
    [InlineData("test_neg_log_loss")] // cross_validate
    [InlineData("mean_test_neg_mean_squared_error")] // GridSearchCV.cv_results_
    [InlineData("val.neg_log_loss")]
    [InlineData("neg_mean_squared_error")]
    [InlineData("NEG_root_mean_squared_error")]
    [InlineData("neg_mean_absolute_error")]
    public void Of_NegPrefix_IsHigherIsBetter(string metric)
    {
        Assert.Equal(MetricDirection.Better.Higher, MetricDirection.Of(metric));
        Assert.Equal(-0.12, MetricDirection.Best(metric, [-0.12, -2.3]));
    }

    [Fact]
    public void Best_IsTheHighestAccuracy_TheLowestErrorCount_AndNoneForACount()
    {
        Assert.Equal(0.9, MetricDirection.Best("accuracy", [0.8, 0.9, 0.85]));
        Assert.Equal(3, MetricDirection.Best("fp", [7, 3, 12]));
        Assert.Null(MetricDirection.Best("graphs", [178, 180]));
        Assert.Null(MetricDirection.Best("f1", []));
    }

    /// <summary>A diverged variant's -inf loss was the lowest, and bold as the best.</summary>
    [Fact]
    public void Best_IsNeverNaNOrInfinite()
    {
        Assert.Equal(0.3, MetricDirection.Best("loss", [0.3, double.NegativeInfinity, double.NaN, 0.4]));
        Assert.Equal(0.9, MetricDirection.Best("accuracy", [0.9, double.PositiveInfinity, double.NaN]));
        Assert.Null(MetricDirection.Best("loss", [double.NaN]));
    }
}
