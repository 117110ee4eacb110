using System;
using System.IO;
using Mono.Cecil;

// Usage: Publicize <input.dll> <output.dll>
// Makes every internal type and member public (private protected / protected internal become protected) so that
// Microsoft.ML.DynMoE can compile against ML.NET's trainer base classes. The copy is only a compile reference:
// at run time the real, unmodified ML.NET assemblies load, and IgnoresAccessChecksTo lets the calls through.
if (args.Length != 2)
{
    Console.Error.WriteLine("usage: Publicize <input.dll> <output.dll>");
    return 2;
}

string input = Path.GetFullPath(args[0]);
string output = Path.GetFullPath(args[1]);
var resolver = new DefaultAssemblyResolver();
resolver.AddSearchDirectory(Path.GetDirectoryName(input)!);

using (var assembly = AssemblyDefinition.ReadAssembly(input, new ReaderParameters { AssemblyResolver = resolver }))
{
    foreach (TypeDefinition type in assembly.MainModule.GetTypes())
    {
        if (type.Name == "<Module>")
            continue;
        if (type.IsNested)
        {
            if (!type.IsNestedPublic && !type.IsNestedPrivate)
                type.IsNestedPublic = true;
        }
        else if (!type.IsPublic)
        {
            type.IsPublic = true;
        }

        foreach (MethodDefinition method in type.Methods)
        {
            if (method.IsAssembly)
                method.IsPublic = true;
            else if (method.IsFamilyAndAssembly || method.IsFamilyOrAssembly)
                method.IsFamily = true;
        }

        foreach (FieldDefinition field in type.Fields)
        {
            if (field.IsAssembly)
                field.IsPublic = true;
            else if (field.IsFamilyAndAssembly || field.IsFamilyOrAssembly)
                field.IsFamily = true;
        }
    }

    Directory.CreateDirectory(Path.GetDirectoryName(output)!);
    string temporary = output + ".tmp";
    assembly.Write(temporary);
    File.Move(temporary, output, overwrite: true);
}

Console.WriteLine($"Publicized {Path.GetFileName(input)} -> {output}");
return 0;
