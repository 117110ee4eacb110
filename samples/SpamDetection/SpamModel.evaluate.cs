using Microsoft.ML;
using Microsoft.ML.Data;

namespace SpamDetection;

public partial class SpamModel
{
    /// <summary>Accuracy, AUC, F1 and the confusion matrix of <paramref name="model"/> on held-out <paramref name="testData"/>.</summary>
    public static CalibratedBinaryClassificationMetrics Evaluate(MLContext mlContext, ITransformer model, IDataView testData)
        => mlContext.BinaryClassification.Evaluate(model.Transform(testData), labelColumnName: @"Label");
}
