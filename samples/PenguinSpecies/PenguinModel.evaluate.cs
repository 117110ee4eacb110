using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.ML;

namespace PenguinSpecies;

public partial class PenguinModel
{
    /// <summary>
    /// Permutation feature importance: shuffles one feature (measurement or one-hot slot) at a time and measures how much macro accuracy
    /// drops. Returns (feature, change in macro accuracy), largest effect first.
    /// </summary>
    public static List<Tuple<string, double>> CalculatePFI(MLContext mlContext, IDataView trainData, ITransformer model, string labelColumnName)
    {
        var preprocessedTrainData = model.Transform(trainData);
        var permutationFeatureImportance = mlContext.MulticlassClassification.PermutationFeatureImportance(model, preprocessedTrainData, labelColumnName: labelColumnName);
        return permutationFeatureImportance
            .Select(pair => Tuple.Create(pair.Key, pair.Value.MacroAccuracy.Mean))
            .OrderByDescending(pair => Math.Abs(pair.Item2))
            .ToList();
    }
}
