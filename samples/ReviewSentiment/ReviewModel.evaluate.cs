using Microsoft.ML;
using Microsoft.ML.Data;

namespace ReviewSentiment;

public partial class ReviewModel
{
    /// <summary>Accuracy, AUC, F1, log-loss and the confusion matrix of <paramref name="model"/> on held-out <paramref name="testData"/>.</summary>
    public static CalibratedBinaryClassificationMetrics Evaluate(MLContext mlContext, ITransformer model, IDataView testData)
        => mlContext.BinaryClassification.Evaluate(model.Transform(testData), labelColumnName: @"Label");
}
