using System;
using Microsoft.ML.Model.OnnxConverter;

namespace Microsoft.ML.DynMoE.Onnx;

/// <summary>
/// The DynMoE model parameters' side of ML.NET's ONNX-save contract (<see cref="ISingleCanSaveOnnx"/>), so that
/// <c>mlContext.Model.ConvertToOnnx</c> exports whole pipelines with a DynMoE step in them. ML.NET's scorers pass the
/// output variables in their column order and expect the model to write the ones they do not write themselves:
/// <list type="bullet">
/// <item>regression (generic scorer): <c>[Score]</c>;</item>
/// <item>multiclass (its scorer adds nothing): <c>[PredictedLabel, Score]</c>, the label being the 1-based UInt32 key
/// of the first highest score, [N, 1], as ML.NET's own multiclass models write it;</item>
/// <item>binary (its scorer thresholds Score into PredictedLabel afterwards): <c>[PredictedLabel, Score, Probability]</c>;
/// a calibrating wrapper passes <c>[Score]</c> alone.</item>
/// </list>
/// </summary>
internal static class DynMoEOnnxSaver
{
    public static bool Save<TOutput>(DynMoEModelParameters<TOutput> model, OnnxContext ctx, string[] outputNames, string featureColumn)
    {
        if (ctx is null)
            throw new ArgumentNullException(nameof(ctx));
        if (outputNames is not { Length: > 0 })
            throw new ArgumentException("The ONNX export needs at least the score output's name.", nameof(outputNames));
        if (string.IsNullOrEmpty(featureColumn))
            throw new ArgumentException("The ONNX export needs the features variable.", nameof(featureColumn));

        switch (model)
        {
            case DynMoEBinaryModelParameters:
            {
                var (score, probability) = outputNames.Length switch
                {
                    1 => (outputNames[0], null),
                    2 => (outputNames[1], null),
                    _ => (outputNames[1], outputNames[2]),
                };
                string logit = DynMoEOnnxEmitter.EmitNetwork(ctx, model.Standardizer, model.Network, featureColumn);
                DynMoEOnnxEmitter.EmitUnary(ctx, "Identity", logit, score);
                if (probability is not null)
                    DynMoEOnnxEmitter.EmitUnary(ctx, "Sigmoid", logit, probability);
                return true;
            }
            case DynMoEMulticlassModelParameters:
            {
                string logits = DynMoEOnnxEmitter.EmitNetwork(ctx, model.Standardizer, model.Network, featureColumn);
                if (outputNames.Length == 1)
                {
                    DynMoEOnnxEmitter.EmitSoftmax(ctx, logits, outputNames[0]);
                    return true;
                }
                DynMoEOnnxEmitter.EmitSoftmax(ctx, logits, outputNames[1]);
                DynMoEOnnxEmitter.EmitPredictedKey(ctx, outputNames[1], outputNames[0]);
                return true;
            }
            case DynMoERegressionModelParameters regression:
            {
                string value = DynMoEOnnxEmitter.EmitNetwork(ctx, model.Standardizer, model.Network, featureColumn);
                DynMoEOnnxEmitter.EmitAffine(ctx, value, regression.LabelScale, regression.LabelMean, outputNames[0]);
                return true;
            }
            default:
                return false;
        }
    }
}
