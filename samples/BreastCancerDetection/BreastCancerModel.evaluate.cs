using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.ML;

namespace BreastCancerDetection;

public partial class BreastCancerModel
{
    /// <summary>
    /// Permutation feature importance: shuffles one measurement at a time and measures how much the area under the ROC
    /// curve drops. Returns (feature, change in AUC), largest effect first.
    /// </summary>
    public static List<Tuple<string, double>> CalculatePFI(MLContext mlContext, IDataView trainData, ITransformer model, string labelColumnName)
    {
        var preprocessedTrainData = model.Transform(trainData);
        var permutationFeatureImportance = mlContext.BinaryClassification.PermutationFeatureImportanceNonCalibrated(model, preprocessedTrainData, labelColumnName: labelColumnName);
        return permutationFeatureImportance
            .Select(pair => Tuple.Create(pair.Key, pair.Value.AreaUnderRocCurve.Mean))
            .OrderByDescending(pair => Math.Abs(pair.Item2))
            .ToList();
    }
}
