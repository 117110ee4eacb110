namespace Microsoft.ML.DynMoE.Experiments
{
    /// <summary>Metric optimized by a multiclass experiment (names follow ML.NET AutoML).</summary>
    public enum MulticlassClassificationMetric
    {
        /// <summary>Micro-averaged accuracy.</summary>
        MicroAccuracy,
        /// <summary>Macro-averaged accuracy (mean per-class accuracy).</summary>
        MacroAccuracy,
        /// <summary>Log-loss (lower is better).</summary>
        LogLoss,
        /// <summary>Log-loss reduction relative to the prior.</summary>
        LogLossReduction,
    }

    /// <summary>Metric optimized by a binary experiment.</summary>
    public enum BinaryClassificationMetric
    {
        /// <summary>Accuracy.</summary>
        Accuracy,
        /// <summary>Area under the ROC curve.</summary>
        AreaUnderRocCurve,
        /// <summary>Area under the precision-recall curve.</summary>
        AreaUnderPrecisionRecallCurve,
        /// <summary>F1 score.</summary>
        F1Score,
    }

    /// <summary>Metric optimized by a regression experiment.</summary>
    public enum RegressionMetric
    {
        /// <summary>Coefficient of determination.</summary>
        RSquared,
        /// <summary>Mean absolute error (lower is better).</summary>
        MeanAbsoluteError,
        /// <summary>Mean squared error (lower is better).</summary>
        MeanSquaredError,
        /// <summary>Root mean squared error (lower is better).</summary>
        RootMeanSquaredError,
    }

    /// <summary>The value of an optimized metric on scored rows, shared by experiments and benchmarks so both evaluate alike.</summary>
    internal static class MetricValue
    {
        internal static double Of(MLContext ml, IDataView scored, string label, MulticlassClassificationMetric metric)
        {
            var m = ml.MulticlassClassification.Evaluate(scored, labelColumnName: label);
            return metric switch
            {
                MulticlassClassificationMetric.MicroAccuracy => m.MicroAccuracy,
                MulticlassClassificationMetric.MacroAccuracy => m.MacroAccuracy,
                MulticlassClassificationMetric.LogLoss => m.LogLoss,
                _ => m.LogLossReduction,
            };
        }

        /// <summary>Uncalibrated trainers (no Probability column) are evaluated without the probability-based metrics.</summary>
        internal static double Of(MLContext ml, IDataView scored, string label, BinaryClassificationMetric metric)
        {
            var m = scored.Schema.GetColumnOrNull("Probability") != null
                ? ml.BinaryClassification.Evaluate(scored, labelColumnName: label)
                : ml.BinaryClassification.EvaluateNonCalibrated(scored, labelColumnName: label);
            return metric switch
            {
                BinaryClassificationMetric.Accuracy => m.Accuracy,
                BinaryClassificationMetric.AreaUnderRocCurve => m.AreaUnderRocCurve,
                BinaryClassificationMetric.AreaUnderPrecisionRecallCurve => m.AreaUnderPrecisionRecallCurve,
                _ => m.F1Score,
            };
        }

        internal static double Of(MLContext ml, IDataView scored, string label, RegressionMetric metric)
        {
            var m = ml.Regression.Evaluate(scored, labelColumnName: label);
            return metric switch
            {
                RegressionMetric.RSquared => m.RSquared,
                RegressionMetric.MeanAbsoluteError => m.MeanAbsoluteError,
                RegressionMetric.MeanSquaredError => m.MeanSquaredError,
                _ => m.RootMeanSquaredError,
            };
        }
    }
}
