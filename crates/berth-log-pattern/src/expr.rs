//! `&&`, `||` and parentheses over conditions, shared by JSON and space-delimited patterns.
//! `&&` binds tighter than `||`, as in the AWS examples.

use crate::lexer::Cursor;
use crate::PatternError;

/// Deep enough for any hand-written pattern, shallow enough that parsing cannot overflow the
/// stack.
const MAX_NESTING: usize = 32;

#[derive(Debug, Clone)]
pub(crate) enum Expr<L> {
    Leaf(L),
    All(Vec<Expr<L>>),
    Any(Vec<Expr<L>>),
}

impl<L> Expr<L> {
    pub(crate) fn eval(&self, test: &dyn Fn(&L) -> bool) -> bool {
        match self {
            Expr::Leaf(leaf) => test(leaf),
            Expr::All(items) => items.iter().all(|e| e.eval(test)),
            Expr::Any(items) => items.iter().any(|e| e.eval(test)),
        }
    }

    pub(crate) fn for_each_leaf<'s>(&'s self, f: &mut dyn FnMut(&'s L)) {
        match self {
            Expr::Leaf(leaf) => f(leaf),
            Expr::All(items) | Expr::Any(items) => items.iter().for_each(|e| e.for_each_leaf(f)),
        }
    }

    pub(crate) fn try_map<M>(self, f: &mut dyn FnMut(L) -> Result<M, PatternError>) -> Result<Expr<M>, PatternError> {
        Ok(match self {
            Expr::Leaf(leaf) => Expr::Leaf(f(leaf)?),
            Expr::All(items) => Expr::All(items.into_iter().map(|e| e.try_map(f)).collect::<Result<_, _>>()?),
            Expr::Any(items) => Expr::Any(items.into_iter().map(|e| e.try_map(f)).collect::<Result<_, _>>()?),
        })
    }
}

pub(crate) type LeafParser<'p, L> = dyn FnMut(&mut Cursor) -> Result<L, PatternError> + 'p;

pub(crate) fn parse<L>(cur: &mut Cursor, leaf: &mut LeafParser<L>) -> Result<Expr<L>, PatternError> {
    parse_or(cur, leaf, 0)
}

fn parse_or<L>(cur: &mut Cursor, leaf: &mut LeafParser<L>, depth: usize) -> Result<Expr<L>, PatternError> {
    let mut items = vec![parse_and(cur, leaf, depth)?];
    loop {
        cur.skip_ws();
        if !cur.eat("||") {
            break;
        }
        items.push(parse_and(cur, leaf, depth)?);
    }
    Ok(if items.len() == 1 { items.remove(0) } else { Expr::Any(items) })
}

fn parse_and<L>(cur: &mut Cursor, leaf: &mut LeafParser<L>, depth: usize) -> Result<Expr<L>, PatternError> {
    let mut items = vec![parse_primary(cur, leaf, depth)?];
    loop {
        cur.skip_ws();
        if !cur.eat("&&") {
            break;
        }
        items.push(parse_primary(cur, leaf, depth)?);
    }
    Ok(if items.len() == 1 { items.remove(0) } else { Expr::All(items) })
}

fn parse_primary<L>(cur: &mut Cursor, leaf: &mut LeafParser<L>, depth: usize) -> Result<Expr<L>, PatternError> {
    cur.skip_ws();
    let open = cur.pos();
    if !cur.eat("(") {
        return Ok(Expr::Leaf(leaf(cur)?));
    }
    if depth >= MAX_NESTING {
        return Err(cur.error(open, format!("parentheses nested more than {MAX_NESTING} deep")));
    }
    let inner = parse_or(cur, leaf, depth + 1)?;
    cur.skip_ws();
    if !cur.eat(")") {
        return Err(cur.error(
            cur.pos(),
            format!("expected ')' to close the '(' at offset {}, found {}", cur.offset_of(open), cur.found()),
        ));
    }
    Ok(inner)
}
