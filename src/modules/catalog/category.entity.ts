import { Entity, Index, ManyToOne, type Opt, Property, type Ref } from '@mikro-orm/core';
import { BaseEntity } from '../../shared/base.entity';

/** A node of the category tree; nesting to any depth through `parent`. */
@Entity({ tableName: 'categories' })
export class Category extends BaseEntity {
  @Property({ type: 'string', length: 120 })
  name: string;

  @Property({ type: 'string', length: 140, unique: true })
  slug: string;

  @Property({ type: 'text', default: '' })
  description: string & Opt = '';

  /** Subtree walks (the descendant filter of product discovery, the tree read) follow parent_id. */
  @Index({ name: 'categories_parent_id_index' })
  @ManyToOne(() => Category, { ref: true, nullable: true, deleteRule: 'restrict' })
  parent: Ref<Category> | null = null;

  @Property({ type: 'boolean', default: true })
  isActive: boolean & Opt = true;

  constructor(name: string, slug: string) {
    super();
    this.name = name;
    this.slug = slug;
  }
}
