"""From protein structures (PDB / mmCIF, gzipped too) to TopoQA-spec interface graphs and DockQ labels.

Nothing here is imported by the rest of graphqa: the optional packages
(``gemmi``, ``gudhi``, ``biopython``; ``pip install 'graphqa[structures]'``) and
the ``mkdssp`` program (Debian's ``dssp`` package) are needed only to build
graphs. One idea per module:

* :mod:`.parse` reads a structure into residues and heavy atoms;
* :mod:`.interface` finds the interface residues and the cross-chain edges;
* :mod:`.residues` residue-type one-hot, RSA reference areas, φ/ψ scaling;
* :mod:`.dssp` runs ``mkdssp`` and parses its secondary structure, accessibility and angles;
* :mod:`.topology` persistent-homology statistics (GUDHI);
* :mod:`.edges` edge features (Cα–Cα distance + heavy-atom pair histogram);
* :mod:`.columns` the feature column names and the builder metadata;
* :mod:`.featurize` one structure -> one graph;
* :mod:`.build` a directory of structures -> ``graphs/`` (+ ``labels/``), in parallel;
* :mod:`.dockq` DockQ v2 of a model against its native;
* :mod:`.labels` the labels CSVs, split by target.
"""
