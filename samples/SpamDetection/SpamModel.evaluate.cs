using System.Collections.Generic;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.DynMoE;
using Microsoft.ML.DynMoE.Sequence;

namespace SpamDetection;

public partial class SpamModel
{
    /// <summary>Accuracy, AUC, F1 and the confusion matrix of <paramref name="model"/> on held-out <paramref name="testData"/>.</summary>
    public static CalibratedBinaryClassificationMetrics Evaluate(MLContext mlContext, ITransformer model, IDataView testData)
        => mlContext.BinaryClassification.Evaluate(model.Transform(testData), labelColumnName: @"Label");

    /// <summary>
    /// Which tokens make the DynMoE layers activate the most (and the fewest) experts on <paramref name="data"/>, from the
    /// model's routing API (padding never counts). Tokens seen fewer than <paramref name="minimumOccurrences"/> times are left out.
    /// </summary>
    public static (DynMoEEncoderRoutingReport Report, IReadOnlyList<DynMoETokenRouting> Most, IReadOnlyList<DynMoETokenRouting> Fewest) ExplainRouting(
        ITransformer model, IDataView data, int count = 10, int minimumOccurrences = 20)
    {
        var encoder = (DynMoEEncoderTransformer)model;
        var report = encoder.Model.ComputeRouting(data, @"Label");
        return (report, report.MostActivatingTokens(count, minimumOccurrences), report.FewestActivatingTokens(count, minimumOccurrences));
    }

    /// <summary>One line: each token (quoted, so leading spaces of tiktoken pieces show) with its mean activated experts.</summary>
    internal static string Describe(IEnumerable<DynMoETokenRouting> tokens)
        => string.Join(", ", tokens.Select(t => $"'{t.Token}' {t.MeanActivatedExperts:F2}"));
}
