using Microsoft.ML.DynMoE.Onnx;

namespace Microsoft.ML;

/// <summary>ONNX export of DynMoE models: <c>mlContext.Model.ConvertDynMoEToOnnx(model, data, stream)</c>.</summary>
public static class DynMoEOnnxCatalog
{
    /// <summary>
    /// Writes a trained tabular DynMoE model as an ONNX model (opset 17) that ONNX Runtime scores with the same results
    /// as ML.NET. Input: the features column, float [N, F] (raw features; the graph standardises them). Outputs:
    /// <c>Score</c>, plus <c>Probability</c> and <c>PredictedLabel</c> (Boolean) for binary classification, or
    /// <c>PredictedLabel</c> (UInt32 1-based class index, as ML.NET's key) for multiclass.
    /// </summary>
    /// <param name="catalog">The model operations catalog.</param>
    /// <param name="model">The trained DynMoE prediction transformer, or a chain ending in it whose other steps only key the label.</param>
    /// <param name="inputData">Data with the schema the model scores (used to check the features column).</param>
    /// <param name="stream">Receives the ONNX model.</param>
    /// <exception cref="System.NotSupportedException">A pipeline step other than the DynMoE transformer, or a text/image DynMoE model.</exception>
    public static void ConvertDynMoEToOnnx(this ModelOperationsCatalog catalog, ITransformer model, IDataView inputData, Stream stream)
        => DynMoEOnnxExporter.Export(((Data.IInternalCatalog)catalog).Environment, model, inputData, stream);
}
