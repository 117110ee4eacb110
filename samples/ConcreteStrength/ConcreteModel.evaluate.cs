using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.ML;

namespace ConcreteStrength;

public partial class ConcreteModel
{
    /// <summary>
    /// Permutation feature importance: shuffles one ingredient (or the age) at a time and measures how much R-squared
    /// drops. Returns (feature, change in R-squared), largest effect first.
    /// </summary>
    public static List<Tuple<string, double>> CalculatePFI(MLContext mlContext, IDataView trainData, ITransformer model, string labelColumnName)
    {
        var preprocessedTrainData = model.Transform(trainData);
        var permutationFeatureImportance = mlContext.Regression.PermutationFeatureImportance(model, preprocessedTrainData, labelColumnName: labelColumnName);
        return permutationFeatureImportance
            .Select(pair => Tuple.Create(pair.Key, pair.Value.RSquared.Mean))
            .OrderByDescending(pair => Math.Abs(pair.Item2))
            .ToList();
    }
}
